"""A failure logged with its traceback shows one line in words on the terminal; the traceback
goes to the log file in the (temporary) data folder."""
from __future__ import annotations

import logging


def test_console_gets_one_line_the_file_gets_the_traceback(capsys, tmp_path, monkeypatch):
    from viewer.core.logs import configure_logging

    monkeypatch.setenv("SLICEWISE_DATA_DIR", str(tmp_path))
    path = configure_logging()
    try:
        try:
            raise ValueError("slice 3 has no pixel data")
        except ValueError:
            logging.getLogger("viewer.state.jobs").exception("job explain #4 failed")
        err = capsys.readouterr().err
        assert "job explain #4 failed (ValueError: slice 3 has no pixel data)" in err
        assert "Traceback" not in err and err.count("\n") == 1
        for handler in logging.getLogger().handlers:
            handler.flush()
        assert path is not None and "Traceback" in path.read_text()
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "slicewise", False):
                root.removeHandler(handler)
                handler.close()
