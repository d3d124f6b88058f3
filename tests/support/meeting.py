"""The `meet:N` answer the test receivers share: a request waits until N
requests answered meet:N are in progress at once (N senders sending side by
side), for at most a minute.

    meeting = Meeting()
    if meeting.wait(int(answer[5:])): ...   # True: all N met
"""
import threading


class Meeting:
    def __init__(self):
        self._lock = threading.Lock()
        self._barrier = None

    def wait(self, parties, timeout=60):
        """True once `parties` callers are waiting together; False after
        `timeout` seconds without them (the meeting is then broken for all)."""
        with self._lock:
            if self._barrier is None:
                self._barrier = threading.Barrier(parties, timeout=timeout)
        try:
            self._barrier.wait()
            return True
        except threading.BrokenBarrierError:
            return False
