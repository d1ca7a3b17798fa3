import sys

from imds_lint.cli import main

sys.exit(main())
