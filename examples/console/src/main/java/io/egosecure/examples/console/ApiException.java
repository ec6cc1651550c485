package io.egosecure.examples.console;

/**
 * A request the server answered with an error, or could not be sent at all; carries the exit
 * status the console ends with.
 */
final class ApiException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int exitStatus;

  ApiException(int exitStatus, String message) {
    super(message);
    this.exitStatus = exitStatus;
  }

  ApiException(int exitStatus, String message, Throwable cause) {
    super(message, cause);
    this.exitStatus = exitStatus;
  }

  int exitStatus() {
    return exitStatus;
  }

  /** The server's problem+json in one line: its title, status and detail. */
  static ApiException problem(int status, String title, String detail) {
    String text = (title == null || title.isBlank() ? "HTTP " + status : title + " (" + status + ")")
        + (detail == null || detail.isBlank() ? "" : ": " + detail);
    return new ApiException(ExitStatus.of(status), text);
  }
}
