package io.egosecure.core.model;

import java.time.Instant;

/** An agent's last report: which revision, whether it applied, and the agent's own message. */
public record AgentStatus(long revision, AgentState state, String message, Instant reportedAt) {
  public static final int MAX_MESSAGE_LENGTH = 2000;

  public AgentStatus {
    Checks.nonNegative(revision, "revision");
    Checks.notNull(state, "state");
    Checks.notNull(message, "message");
    // An agent's message is diagnostics: keep it readable and storable everywhere (PostgreSQL
    // refuses NUL) rather than refuse the report.
    message = message.replaceAll("[\\p{Cntrl}&&[^\\n\\t]]", "\uFFFD");
    if (message.length() > MAX_MESSAGE_LENGTH) {
      // An agent's message is diagnostics, not data: keep what fits rather than refuse the report.
      message = message.substring(0, MAX_MESSAGE_LENGTH);
    }
    reportedAt = Checks.millis(reportedAt, "reportedAt");
  }
}
