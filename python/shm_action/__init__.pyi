"""Type stubs of shm_action: the names are hcm._hcm's."""
from hcm._hcm import ActionClient as ActionClient
from hcm._hcm import ActionServer as ActionServer
from hcm._hcm import ClientGoalHandle as ClientGoalHandle
from hcm._hcm import Error as Error
from hcm._hcm import InvalidArgumentError as InvalidArgumentError
from hcm._hcm import PeerDeadError as PeerDeadError
from hcm._hcm import ServerGoalHandle as ServerGoalHandle
from hcm._hcm import TopicNotFoundError as TopicNotFoundError
from hcm._hcm import TypeMismatchError as TypeMismatchError
from hcm._hcm import WaitTimeoutError as WaitTimeoutError
from hcm._hcm import unlink_action as unlink

PENDING: str
ACCEPTED: str
EXECUTING: str
CANCELING: str
SUCCEEDED: str
CANCELED: str
ABORTED: str
REJECTED: str
FINAL: frozenset[str]
__all__: list[str]
