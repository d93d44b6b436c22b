import sys

from noprune.cli import main

sys.exit(main())
