import sys

from plates.cli import main

sys.exit(main())
