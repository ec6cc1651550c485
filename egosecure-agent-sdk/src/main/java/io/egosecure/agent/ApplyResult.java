package io.egosecure.agent;

import java.util.Objects;

/** What a {@link PolicyApplier} made of a PolicySet: applied, or failed with a reason. */
public final class ApplyResult {
  private static final ApplyResult SUCCESS = new ApplyResult(true, "");

  private final boolean succeeded;
  private final String message;

  private ApplyResult(boolean succeeded, String message) {
    this.succeeded = succeeded;
    this.message = message;
  }

  /** The set is in force. */
  public static ApplyResult success() {
    return SUCCESS;
  }

  /** The set is not in force; {@code message} tells the administrator why (it is sent to the server). */
  public static ApplyResult failure(String message) {
    Objects.requireNonNull(message, "message == null");
    return new ApplyResult(false, message);
  }

  public boolean succeeded() {
    return succeeded;
  }

  /** Empty for a success. */
  public String message() {
    return message;
  }

  @Override
  public String toString() {
    return succeeded ? "ApplyResult[success]" : "ApplyResult[failure: " + message + "]";
  }
}
