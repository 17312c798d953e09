from importlib import import_module

from apscheduler.schedulers.base import BaseScheduler


def _find_qtimer():
    # Newest binding first; at each major version PySide is preferred over PyQt.
    for major in range(6, 1, -1):
        for binding in ("PySide", "PyQt"):
            try:
                qtcore = import_module(f"{binding}{major}.QtCore")
            except ImportError:
                continue

            return qtcore.QTimer

    raise ImportError("QtScheduler requires either PySide/PyQt (v6 to v2) installed")


QTimer = _find_qtimer()


class QtScheduler(BaseScheduler):
    """
    A scheduler that runs in a Qt event loop.

    Its engine arrives with the scheduler core.
    """
