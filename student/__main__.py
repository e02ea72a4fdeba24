import sys

from student.cli import main

sys.exit(main())
