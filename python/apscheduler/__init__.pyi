release: str
version_info: tuple[int | str, ...]
version: str
__version__: str
def __dir__() -> list[str]: ...
