"""The floor of any pure-Python scan of a tree, to read beside `bench.py`'s ratios against grep.

    python benchmarks/floor.py TREE      (prints one line per finding; the time goes to stderr)

It does the least a linter written in Python could do on a Terraform-heavy tree:
walk it, read every file (``os.open``/``os.read``, as ``imds_lint.source`` does),
screen it with one regular expression, find ``aws_instance`` / launch template /
launch configuration headers with a second one, and print a line for each one in
a file that never says ``metadata_options``, on two processes. No parser, no rule,
no fix, no cache. Whatever it costs against ``grep -rIlE`` on the same tree is a
cost every pure-Python implementation pays before it parses anything; issue 19's
"<= 10x grep on 20,000 Terraform files" is measured against this line.

It reads no file it is not given, runs nothing it reads, and talks to no network.
"""

import os
import re
import sys
import time
from multiprocessing import Pool

SCREEN = re.compile(rb"169\.254\.169\.254|instance-data|fd00:ec2::254|aws_instance|aws_launch_template|aws_launch_configuration")
HEADER = re.compile(rb'^resource\s+"(aws_instance|aws_launch_template|aws_launch_configuration)"\s+"([^"]+)"\s*\{', re.M)


def scan(paths: list[str]) -> list[str]:
    lines = []
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            data = os.read(fd, os.fstat(fd).st_size + 1)
        finally:
            os.close(fd)
        if not SCREEN.search(data) or b"metadata_options" in data:
            continue
        for header in HEADER.finditer(data):
            line = data.count(b"\n", 0, header.start()) + 1
            lines.append(f"{path}:{line}:1: {header.group(1).decode()} {header.group(2).decode()} does not require IMDSv2 tokens")
    return lines


def main() -> int:
    started = time.perf_counter()
    paths = []
    for folder, folders, files in os.walk(sys.argv[1]):
        folders.sort()
        paths.extend(os.path.join(folder, name) for name in sorted(files))
    with Pool(2) as pool:
        found = pool.map(scan, [paths[0::2], paths[1::2]])
    lines = [line for part in found for line in part]
    sys.stdout.write("".join(line + "\n" for line in lines))
    print(f"{len(paths)} files, {len(lines)} lines, {time.perf_counter() - started:.3f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
