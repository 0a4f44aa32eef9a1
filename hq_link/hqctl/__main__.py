import sys

from hq_link.hqctl.main import main

sys.exit(main())
