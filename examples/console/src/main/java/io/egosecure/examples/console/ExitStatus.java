package io.egosecure.examples.console;

/** The console's exit statuses, so scripts can tell a missing tenant from a server that is down. */
final class ExitStatus {
  static final int OK = 0;
  /** A local problem: a file that cannot be read, settings that are not JSON. */
  static final int FAILED = 1;
  /** A command line picocli or the console rejected. */
  static final int USAGE = 2;
  /** No answer: connection refused, TLS failed, timed out. */
  static final int UNREACHABLE = 3;
  /** 401 or 403: the key is wrong, revoked, or may not do this. */
  static final int NOT_ALLOWED = 4;
  /** 404: no such resource, or one the key may not see. */
  static final int NOT_FOUND = 5;
  /** 409, 412, 428: someone else changed it first; fetch and retry. */
  static final int CONFLICT = 6;
  /** Any other 4xx: the server refused the request as sent. */
  static final int REJECTED = 7;
  /** 5xx: the server could not do it now. */
  static final int SERVER_ERROR = 8;

  private ExitStatus() {}

  static int of(int httpStatus) {
    return switch (httpStatus) {
      case 401, 403 -> NOT_ALLOWED;
      case 404 -> NOT_FOUND;
      case 409, 412, 428 -> CONFLICT;
      default -> httpStatus >= 500 ? SERVER_ERROR : REJECTED;
    };
  }
}
