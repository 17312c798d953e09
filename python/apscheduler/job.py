class Job:
    """
    Contains the options given when scheduling callables and its current schedule and
    other state. This class should never be instantiated by the user.

    The job's behaviour (modification, rescheduling, pausing, serialization) arrives
    with the scheduler core.
    """
