package io.egosecure.examples.server;

/** Why the server cannot start, in one line for the operator; no stack trace is printed. */
class StartupException extends Exception {
  private static final long serialVersionUID = 1L;

  StartupException(String reason) {
    super(oneLine(reason));
  }

  StartupException(String reason, Throwable cause) {
    super(oneLine(reason), cause);
  }

  static String oneLine(String text) {
    return text == null ? "" : text.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
  }
}
