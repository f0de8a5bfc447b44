"""``python -m viewer``: the SliceWise application (or a headless command)."""
from viewer.app import main

raise SystemExit(main())
