"""Three-world figures for the closing note: fixtures and generated scripts, counted, not stopped.

    python -m tests.three_worlds_figures [--generated N] [--seed S] [--show K]

Prints, for every runnable fixture of tests/three_worlds.toml, whether its fix
keeps its behaviour, and for N generated scripts how many fail in each world.
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from collections import Counter

from tests.differential import Worlds
from tests.shell_generator import draw_program
from tests.test_generated_scripts import fixed_program
from tests.test_three_worlds import MANIFEST, entry_id, programs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generated", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--show", type=int, default=3, help="failing generated scripts to print")
    parser.add_argument("--no-fixtures", action="store_true")
    args = parser.parse_args()
    worlds = Worlds()
    try:
        if not args.no_fixtures:
            kept = 0
            runnable = 0
            for entry in MANIFEST["run"]:
                if entry.get("requires") and shutil.which(entry["requires"]) is None:
                    print(f"SKIP {entry_id(entry)}: {entry['requires']} is not installed")
                    continue
                runnable += 1
                original, fixed = programs(entry)
                verdict = worlds.compare(original, fixed)
                kept += verdict.ok
                worlds_failed = sorted({p.split(":", 1)[0] for p in verdict.problems()})
                print(("ok  " if verdict.ok else "FAIL") + f" {entry_id(entry)} {' '.join(worlds_failed)}")
            print(f"fixtures: {kept}/{runnable} keep their behaviour in all three worlds")
        source = random.Random(args.seed)
        failures: Counter[str] = Counter()
        failed = 0
        shown = 0
        started = time.monotonic()
        for _ in range(args.generated):
            program = draw_program(lambda options: source.choice(list(options)))
            verdict = worlds.compare(program, fixed_program(program), blackhole_cap=2.0)
            if not verdict.ok:
                failed += 1
                for world in sorted({p.split(":", 1)[0] for p in verdict.problems()}):
                    failures[world] += 1
                if shown < args.show:
                    shown += 1
                    print("----\n" + program.text + "\n".join(verdict.problems()))
        print(f"generated: {args.generated - failed}/{args.generated} keep their behaviour "
              f"({dict(failures)} failing per world) in {time.monotonic() - started:.0f} s")
    finally:
        worlds.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
