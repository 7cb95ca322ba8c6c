"""Type stubs of shm_service: the names are hcm._hcm's."""
from hcm._hcm import BusyError as BusyError
from hcm._hcm import CorruptSegmentError as CorruptSegmentError
from hcm._hcm import Error as Error
from hcm._hcm import IntegerOverflowError as IntegerOverflowError
from hcm._hcm import InvalidArgumentError as InvalidArgumentError
from hcm._hcm import PeerDeadError as PeerDeadError
from hcm._hcm import PermissionDeniedError as PermissionDeniedError
from hcm._hcm import RemoteError as RemoteError
from hcm._hcm import ServiceClient as ServiceClient
from hcm._hcm import ServiceServer as ServiceServer
from hcm._hcm import SystemCallError as SystemCallError
from hcm._hcm import TopicNotFoundError as TopicNotFoundError
from hcm._hcm import TypeMismatchError as TypeMismatchError
from hcm._hcm import WaitTimeoutError as WaitTimeoutError
from hcm._hcm import unlink_service as unlink

__all__: list[str]
