"""Headless commands (``slicewise info|screenshot|models|classify|teach ...``), one file each.

:mod:`viewer.cli.main` parses the command line and dispatches; :mod:`viewer.cli.errors` holds
:class:`CommandError`. Commands print one readable line on failure, never a traceback.
"""
