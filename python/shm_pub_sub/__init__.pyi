"""Type stubs of shm_pub_sub: the names are hcm._hcm's."""
from hcm._hcm import DEFAULT_MAX_SIZE as DEFAULT_MAX_SIZE
from hcm._hcm import MAX_BUFFER_NUM as MAX_BUFFER_NUM
from hcm._hcm import BusyError as BusyError
from hcm._hcm import CorruptSegmentError as CorruptSegmentError
from hcm._hcm import Error as Error
from hcm._hcm import IntegerOverflowError as IntegerOverflowError
from hcm._hcm import InvalidArgumentError as InvalidArgumentError
from hcm._hcm import Loan as Loan
from hcm._hcm import OverrunError as OverrunError
from hcm._hcm import PermissionDeniedError as PermissionDeniedError
from hcm._hcm import Publisher as Publisher
from hcm._hcm import Subscriber as Subscriber
from hcm._hcm import SystemCallError as SystemCallError
from hcm._hcm import TopicNotFoundError as TopicNotFoundError
from hcm._hcm import TypeMismatchError as TypeMismatchError
from hcm._hcm import View as View
from hcm._hcm import WaitTimeoutError as WaitTimeoutError
from hcm._hcm import reclaim as reclaim
from hcm._hcm import topics as topics
from hcm._hcm import type_info as type_info
from hcm._hcm import unlink as unlink

__all__: list[str]
