package io.egosecure.agent;

import io.egosecure.core.EgoSecureException;
import java.util.Objects;

/**
 * A problem the agent met and handled, as {@link PolicyAgentListener#error} reports it. The agent
 * never throws these into the application's threads; {@link #kind()} says what happened.
 */
public final class PolicyAgentException extends EgoSecureException {
  private static final long serialVersionUID = 1L;

  /** What went wrong. */
  public enum Kind {
    /** The state directory cannot be used: not writable, or held by another agent. The agent stops. */
    STATE_UNUSABLE,
    /** A state file was corrupt or truncated and is treated as absent. */
    STATE_CORRUPT,
    /** There is no credential and no enrollment token to get one. The agent stops. */
    NOT_ENROLLED,
    /** The server refused the enrollment token (unknown, expired or used up). The agent stops. */
    ENROLLMENT_REFUSED,
    /** No server could be reached, or it answered with an error; the agent backs off and retries. */
    SERVER_UNAVAILABLE,
    /** The server answered something this agent cannot use (a 4xx, a bad body); it retries later. */
    UNEXPECTED_RESPONSE
  }

  private final Kind kind;

  PolicyAgentException(Kind kind, String message) {
    this(kind, message, null);
  }

  PolicyAgentException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = Objects.requireNonNull(kind, "kind == null");
  }

  public Kind kind() {
    return kind;
  }
}
