"""``python -m clinicall`` runs the command line."""

import sys

from clinicall.cli import main

sys.exit(main())
