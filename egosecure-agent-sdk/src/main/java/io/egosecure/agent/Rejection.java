package io.egosecure.agent;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * Why a PolicySet was not put into force. The agent reports it to the server as {@code FAILED}
 * with {@link #message()}, keeps enforcing its last-known-good set, and tells the listener.
 *
 * @param revision the set's revision, when the set could be read at all
 * @param detail what exactly was wrong, for logs and the administrator
 */
public record Rejection(Reason reason, OptionalLong revision, String detail) {
  public Rejection {
    Objects.requireNonNull(reason, "reason == null");
    Objects.requireNonNull(revision, "revision == null");
    Objects.requireNonNull(detail, "detail == null");
  }

  /** The reasons, in the order the agent checks them (docs/conformance.md). */
  public enum Reason {
    /** Not a PolicySet: not one JSON object, or a required member missing or mistyped. */
    MALFORMED("malformed"),
    /** Signed with a key this agent was not given at enrollment. */
    UNKNOWN_KEY("unknown-key"),
    /** The signature does not verify: tampered in transit or at rest. */
    BAD_SIGNATURE("bad-signature"),
    /** Meant for another tenant. */
    WRONG_TENANT("wrong-tenant"),
    /** Meant for another agent. */
    WRONG_AGENT("wrong-agent"),
    /** Older than what is in force: a replay or a rollback attack. */
    ROLLBACK("rollback"),
    /** Past its {@code expiresAt} (beyond the allowed clock skew): a freeze attack or a stuck server. */
    EXPIRED("expired"),
    /** Issued in the future (beyond the allowed clock skew): this clock or the server's is wrong. */
    NOT_YET_VALID("not-yet-valid"),
    /** Verified, but the {@link PolicyApplier} failed or threw. */
    APPLY_FAILED("apply-failed");

    private final String code;

    Reason(String code) {
      this.code = code;
    }

    /** The stable name used in conformance fixtures and status messages, e.g. {@code bad-signature}. */
    public String code() {
      return code;
    }
  }

  /** The status message sent to the server: {@code "<code>: <detail>"}. */
  public String message() {
    return reason.code() + ": " + detail;
  }
}
