"""Shared by every suite."""

import signal

# A shell without job control starts a background command (`scripts/test &`, a CI step run with `&`) with Ctrl-C
# ignored, and an ignored signal stays ignored across exec: the commands these tests start and interrupt with SIGINT
# would then never see it. Restored here, in the process that starts them all.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
