from apscheduler._core import and_next_fire_time
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import _check_version
from apscheduler.util import obj_to_ref, ref_to_obj


class BaseCombiningTrigger(BaseTrigger):
    __slots__ = ("jitter", "triggers")

    def __init__(self, triggers, jitter=None):
        self.triggers = triggers
        self.jitter = jitter

    def __getstate__(self):
        return {
            "version": 1,
            "triggers": [
                (obj_to_ref(trigger.__class__), trigger.__getstate__())
                for trigger in self.triggers
            ],
            "jitter": self.jitter,
        }

    def __setstate__(self, state):
        _check_version(self, state, 1, "only versions up to 1 can be handled")
        self.jitter = state["jitter"]
        self.triggers = []
        for class_ref, trigger_state in state["triggers"]:
            trigger_class = ref_to_obj(class_ref)
            trigger = trigger_class.__new__(trigger_class)
            trigger.__setstate__(trigger_state)
            self.triggers.append(trigger)

    def __repr__(self):
        jitter = f", jitter={self.jitter}" if self.jitter else ""
        return f"<{type(self).__name__}({self.triggers}{jitter})>"


class AndTrigger(BaseCombiningTrigger):
    """
    Always returns the earliest next fire time that all the given triggers can agree on.
    The trigger is considered to be finished when any of the given triggers has finished
    its schedule.

    Trigger alias: ``and``

    .. warning:: This trigger should only be used to combine triggers that fire on
        specific times of day, such as
        :class:`~apscheduler.triggers.cron.CronTrigger` and
        :class:`~apscheduler.triggers.calendarinterval.CalendarIntervalTrigger`.

    :param list triggers: triggers to combine
    :param int|None jitter: delay the job execution by ``jitter`` seconds at most
    """

    __slots__ = ()

    def get_next_fire_time(self, previous_fire_time, now):
        fire_time = and_next_fire_time(self.triggers, previous_fire_time, now)
        return self._apply_jitter(fire_time, self.jitter, now)

    def __str__(self):
        return "and[{}]".format(", ".join(str(trigger) for trigger in self.triggers))


class OrTrigger(BaseCombiningTrigger):
    """
    Always returns the earliest next fire time produced by any of the given triggers.
    The trigger is considered finished when all the given triggers have finished their
    schedules.

    Trigger alias: ``or``

    :param list triggers: triggers to combine
    :param int|None jitter: delay the job execution by ``jitter`` seconds at most

    .. note:: Triggers that depend on the previous fire time, such as the interval
        trigger, may seem to behave strangely since they are always passed the previous
        fire time produced by any of the given triggers.
    """

    __slots__ = ()

    def get_next_fire_time(self, previous_fire_time, now):
        earliest = None
        for trigger in self.triggers:
            fire_time = trigger.get_next_fire_time(previous_fire_time, now)
            if fire_time is not None and (earliest is None or fire_time < earliest):
                earliest = fire_time
        return self._apply_jitter(earliest, self.jitter, now)

    def __str__(self):
        return "or[{}]".format(", ".join(str(trigger) for trigger in self.triggers))
