from imds_lint.cli import run

run()
