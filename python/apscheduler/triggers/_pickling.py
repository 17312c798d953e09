import copyreg


def reduce_native(self, protocol):
    """
    Pickles a trigger with a native base the way the reference's plain Python triggers
    pickle: as its class and ``__getstate__()``.

    ``object.__reduce_ex__`` does the same for protocols 2 and up (the bytes are
    identical), but refuses protocols 0 and 1 for instances of native types.
    """
    return copyreg.__newobj__, (type(self),), self.__getstate__()
