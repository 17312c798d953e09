"""Helpers shared by the benchmark orchestrators (``bench_*.py``).

Kept to the standard library and old Python syntax: the orchestrators run under any
python3, not only the project's environments.
"""

import os
import platform

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def venv_python(venv):
    """The interpreter of a virtualenv at the repository root (``.venv``, ``.venv-ref``)."""
    if os.name == "nt":
        return os.path.join(REPO, venv, "Scripts", "python.exe")
    return os.path.join(REPO, venv, "bin", "python")



def cpu_description():
    count = os.cpu_count()
    text = "%s logical cores" % count
    if hasattr(os, "sched_getaffinity"):
        usable = len(os.sched_getaffinity(0))
        if usable != count:
            text += " (%d usable)" % usable
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    model = model or platform.processor()
    if model:
        text += ", " + model
    return text


def md_escape(text):
    return text.replace("|", "\\|").replace("*", "\\*")