"""The old name of store/writer_process.py, kept only for ivr/web/app.py's import of
WriterUnavailable while the web modules are being restructured elsewhere; delete it once
that import names store.writer_process."""

from store.writer_process import WriterUnavailable

__all__ = ["WriterUnavailable"]
