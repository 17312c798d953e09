from abc import ABCMeta
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from apscheduler.triggers.base import BaseTrigger

class BaseCombiningTrigger(BaseTrigger, metaclass=ABCMeta):
    triggers: list[BaseTrigger]
    jitter: int | None
    def __init__(self, triggers: Sequence[BaseTrigger], jitter: int | None = None) -> None: ...
    def __getstate__(self) -> dict[str, Any]: ...
    def __setstate__(self, state: dict[str, Any]) -> None: ...

class AndTrigger(BaseCombiningTrigger):
    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None: ...

class OrTrigger(BaseCombiningTrigger):
    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None: ...
