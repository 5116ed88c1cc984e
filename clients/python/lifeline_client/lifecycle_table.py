"""The client's lifecycle as data: every state and transition of the TypeScript chart
(machines/gateway-machine.ts), written out for the Python machine to run from. tests/test_chart_table.py
checks it against schema/client-chart.json (``npm run chart``) transition by transition, so a
transition added to the chart and not here fails the build. Edit both together."""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple


class StateDef(NamedTuple):
    """One state node; ids are dotted paths below the root (``joined.live``); the root is ``""``."""

    id: str
    parent: Optional[str]
    initial: Optional[str]
    entry: Tuple[str, ...] = ()
    exit: Tuple[str, ...] = ()
    invoke: Tuple[str, ...] = ()
    after: Tuple[str, ...] = ()


class TransitionDef(NamedTuple):
    """One transition; candidates for the same (source, event) are tried in table order.
    ``event`` is the event type, ``after <delay>`` or ``always``; no target: actions only."""

    source: str
    event: str
    guard: Optional[str]
    target: Optional[str]
    actions: Tuple[str, ...] = ()
    reenter: bool = False


STATES: Tuple[StateDef, ...] = (
    StateDef('', None, 'disconnected'),
    StateDef('disconnected', '', None, entry=('closeSocket', 'unwatchBrowserSignals', 'clearRetry', 'endOutage', 'stopTransportRetry')),
    StateDef('connecting', '', None, entry=('clearRetry', 'moveToNextNode', 'retryPreferredTransport', 'openSocket'), after=('handshakeTimeout',)),
    StateDef('negotiating', '', None, after=('handshakeTimeout',)),
    StateDef('joined', '', 'joined.replaying', entry=('clearError', 'flushOutbox', 'probePreferredTransport', 'watchLiveness'), exit=('stopTransportProbe', 'unwatchLiveness'), after=('stableUptime',)),
    StateDef('joined.replaying', 'joined', None),
    StateDef('joined.live', 'joined', None),
    StateDef('reconnecting', '', 'reconnecting.waiting', entry=('closeSocket',)),
    StateDef('reconnecting.waiting', 'reconnecting', None, after=('retryDelay',)),
    StateDef('reconnecting.offline', 'reconnecting', None),
    StateDef('reconnecting.backpressure', 'reconnecting', None),
    StateDef('suspended', '', 'suspended.waiting', entry=('closeSocket',)),
    StateDef('suspended.waiting', 'suspended', None, after=('retryDelay',)),
    StateDef('suspended.offline', 'suspended', None),
)

TRANSITIONS: Tuple[TransitionDef, ...] = (
    TransitionDef('', 'network.online', None, None, ('recordOnline',)),
    TransitionDef('', 'network.offline', None, None, ('recordOffline',)),
    TransitionDef('', 'outage.aged', None, None, ('recordOutageAged',)),
    TransitionDef('', 'transport.retry_due', None, None, ('markTransportRetryDue',)),
    TransitionDef('', 'outage.probed', None, None, ('recordOutageProbed',)),
    TransitionDef('disconnected', 'user.connect', None, 'connecting', ('resetAttempts', 'clearError', 'armTokenRefresh', 'watchBrowserSignals')),
    TransitionDef('connecting', 'socket.opened', None, 'negotiating', ('recordTransportOpened', 'endProbing')),
    TransitionDef('connecting', 'socket.closed', 'retriesExhausted', 'disconnected', ('recordClose', 'recordRetriesExhausted')),
    TransitionDef('connecting', 'socket.closed', 'outageIsOld', 'suspended', ('recordClose', 'recordTransportFailure', 'countFailure', 'planBackoff')),
    TransitionDef('connecting', 'socket.closed', None, 'reconnecting', ('recordClose', 'recordTransportFailure', 'countFailure', 'planBackoff', 'startOutageClock')),
    TransitionDef('connecting', 'user.disconnect', None, 'disconnected', ('recordUserClose',)),
    TransitionDef('connecting', 'after handshakeTimeout', 'retriesExhausted', 'disconnected', ('recordHandshakeTimeout', 'recordRetriesExhausted')),
    TransitionDef('connecting', 'after handshakeTimeout', 'outageIsOld', 'suspended', ('recordHandshakeTimeout', 'recordTransportFailure', 'countFailure', 'planBackoff')),
    TransitionDef('connecting', 'after handshakeTimeout', None, 'reconnecting', ('recordHandshakeTimeout', 'recordTransportFailure', 'countFailure', 'planBackoff', 'startOutageClock')),
    TransitionDef('negotiating', 'hello.accepted', None, 'joined', ('recordAccepted', 'recordTransportJoined')),
    TransitionDef('negotiating', 'hello.rejected', 'mayRefreshToken', 'reconnecting', ('recordClose', 'refreshToken', 'planPromptRetry', 'startOutageClock')),
    TransitionDef('negotiating', 'hello.rejected', 'isTerminalRejection', 'disconnected', ('recordRejection',)),
    TransitionDef('negotiating', 'hello.rejected', 'retriesExhausted', 'disconnected', ('recordRejection', 'recordRetriesExhausted')),
    TransitionDef('negotiating', 'hello.rejected', 'outageIsOld', 'suspended', ('recordRejection', 'countFailure', 'planBackoff')),
    TransitionDef('negotiating', 'hello.rejected', None, 'reconnecting', ('recordRejection', 'countFailure', 'planBackoff', 'startOutageClock')),
    TransitionDef('negotiating', 'hello.unsupported', None, 'negotiating', ('useLegacyHandshake',), reenter=True),
    TransitionDef('negotiating', 'socket.closed', 'mayRefreshToken', 'reconnecting', ('recordClose', 'refreshToken', 'planPromptRetry', 'startOutageClock')),
    TransitionDef('negotiating', 'socket.closed', 'isFatalClose', 'disconnected', ('recordClose', 'recordFatalClose')),
    TransitionDef('negotiating', 'socket.closed', 'retriesExhausted', 'disconnected', ('recordClose', 'recordRetriesExhausted')),
    TransitionDef('negotiating', 'socket.closed', 'outageIsOld', 'suspended', ('recordClose', 'countFailure', 'planBackoff')),
    TransitionDef('negotiating', 'socket.closed', None, 'reconnecting', ('recordClose', 'countFailure', 'planBackoff', 'startOutageClock')),
    TransitionDef('negotiating', 'user.disconnect', None, 'disconnected', ('recordUserClose',)),
    TransitionDef('negotiating', 'after handshakeTimeout', 'retriesExhausted', 'disconnected', ('recordHandshakeTimeout', 'recordRetriesExhausted')),
    TransitionDef('negotiating', 'after handshakeTimeout', 'outageIsOld', 'suspended', ('recordHandshakeTimeout', 'countFailure', 'planBackoff')),
    TransitionDef('negotiating', 'after handshakeTimeout', None, 'reconnecting', ('recordHandshakeTimeout', 'countFailure', 'planBackoff', 'startOutageClock')),
    TransitionDef('joined', 'heartbeat.missed', 'reconnectDisabled', 'disconnected', ('terminateSocket', 'recordHeartbeatMiss', 'recordRetriesExhausted')),
    TransitionDef('joined', 'heartbeat.missed', 'outageIsNone', 'reconnecting', ('terminateSocket', 'recordHeartbeatMiss', 'planPromptRetry', 'startProbing')),
    TransitionDef('joined', 'heartbeat.missed', 'retriesExhausted', 'disconnected', ('terminateSocket', 'recordHeartbeatMiss', 'recordRetriesExhausted')),
    TransitionDef('joined', 'heartbeat.missed', 'outageIsOld', 'suspended', ('terminateSocket', 'recordHeartbeatMiss', 'countFailure', 'planBackoff')),
    TransitionDef('joined', 'heartbeat.missed', None, 'reconnecting', ('terminateSocket', 'recordHeartbeatMiss', 'countFailure', 'planBackoff', 'startOutageClock')),
    TransitionDef('joined', 'draining', 'reconnectDisabled', 'disconnected', ('planDrainRetry', 'recordRetriesExhausted')),
    TransitionDef('joined', 'draining', 'outageIsNone', 'reconnecting', ('planDrainRetry', 'startOutageClock')),
    TransitionDef('joined', 'draining', 'retriesExhausted', 'disconnected', ('planDrainRetry', 'recordRetriesExhausted')),
    TransitionDef('joined', 'draining', 'outageIsOld', 'suspended', ('planDrainRetry', 'countFailure', 'planBackoff')),
    TransitionDef('joined', 'draining', None, 'reconnecting', ('planDrainRetry', 'countFailure', 'planBackoff', 'startOutageClock')),
    TransitionDef('joined', 'socket.closed', 'mayRefreshToken', 'reconnecting', ('recordClose', 'refreshToken', 'planPromptRetry', 'startOutageClock')),
    TransitionDef('joined', 'socket.closed', 'isFatalClose', 'disconnected', ('recordClose', 'recordFatalClose')),
    TransitionDef('joined', 'socket.closed', 'reconnectDisabled', 'disconnected', ('recordClose', 'recordRetriesExhausted')),
    TransitionDef('joined', 'socket.closed', 'isPromptCloseOutsideOutage', 'reconnecting', ('recordClose', 'planPromptRetry', 'startProbing')),
    TransitionDef('joined', 'socket.closed', 'retriesExhausted', 'disconnected', ('recordClose', 'recordRetriesExhausted')),
    TransitionDef('joined', 'socket.closed', 'outageIsOld', 'suspended', ('recordClose', 'countFailure', 'planBackoff')),
    TransitionDef('joined', 'socket.closed', None, 'reconnecting', ('recordClose', 'countFailure', 'planBackoff', 'startProbing')),
    TransitionDef('joined', 'consumer.overflow', None, 'reconnecting.backpressure', ('recordOverflow',)),
    TransitionDef('joined', 'page.visible', None, None, ('probeLiveness',)),
    TransitionDef('joined', 'transport.retry_due', None, None, ('markTransportRetryDue', 'probePreferredTransport')),
    TransitionDef('joined', 'transport.probe_opened', None, 'connecting', ('closeSocket', 'recordTransportUpgrade')),
    TransitionDef('joined', 'transport.probe_failed', None, None, ('stopTransportProbe', 'recordTransportProbeFailed')),
    TransitionDef('joined', 'network.online', None, None, ('recordOnline', 'probeLiveness')),
    TransitionDef('joined', 'network.offline', None, None, ('recordOffline', 'probeLiveness')),
    TransitionDef('joined', 'user.disconnect', None, 'disconnected', ('recordUserClose',)),
    TransitionDef('joined', 'after stableUptime', None, None, ('resetAttempts', 'endOutage', 'armTokenRefresh')),
    TransitionDef('joined.replaying', 'caught_up', None, 'joined.live'),
    TransitionDef('reconnecting', 'network.online', None, 'connecting', ('recordOnline',)),
    TransitionDef('reconnecting', 'page.visible', 'mayRetryEarly', 'connecting'),
    TransitionDef('reconnecting', 'user.connect', None, 'connecting'),
    TransitionDef('reconnecting', 'user.disconnect', None, 'disconnected', ('recordUserClose',)),
    TransitionDef('reconnecting', 'outage.aged', None, 'suspended', ('recordOutageAged',)),
    TransitionDef('reconnecting.waiting', 'network.offline', None, 'reconnecting.offline', ('recordOffline',)),
    TransitionDef('reconnecting.waiting', 'after retryDelay', None, 'connecting'),
    TransitionDef('reconnecting.waiting', 'always', 'isOffline', 'reconnecting.offline'),
    TransitionDef('reconnecting.backpressure', 'consumer.drained', 'isOffline', 'reconnecting.offline'),
    TransitionDef('reconnecting.backpressure', 'consumer.drained', None, 'connecting'),
    TransitionDef('reconnecting.backpressure', 'network.online', None, None, ('recordOnline',)),
    TransitionDef('reconnecting.backpressure', 'page.visible', None, None),
    TransitionDef('reconnecting.backpressure', 'outage.aged', None, None, ('recordOutageAged',)),
    TransitionDef('suspended', 'network.online', None, 'connecting', ('recordOnline',)),
    TransitionDef('suspended', 'page.visible', 'mayRetryEarly', 'connecting'),
    TransitionDef('suspended', 'user.connect', None, 'connecting'),
    TransitionDef('suspended', 'user.disconnect', None, 'disconnected', ('recordUserClose',)),
    TransitionDef('suspended.waiting', 'network.offline', None, 'suspended.offline', ('recordOffline',)),
    TransitionDef('suspended.waiting', 'after retryDelay', None, 'connecting'),
    TransitionDef('suspended.waiting', 'always', 'isOffline', 'suspended.offline'),
)
