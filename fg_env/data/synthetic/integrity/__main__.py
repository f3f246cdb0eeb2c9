"""``python -m fg_env.data.synthetic.integrity``: the same as ``fg-env integrity``."""

import sys

from fg_env.data.synthetic.integrity.runner import main

sys.exit(main())
