package io.egosecure.transport.https;

import java.util.Map;

/** A failure the transport itself detects (a body too large, a missing If-Match, a rate limit). */
final class HttpProblem extends RuntimeException {
  private static final long serialVersionUID = 1L;

  final Problem problem;
  final transient Map<String, String> headers;

  HttpProblem(Problem problem, String detail) {
    this(problem, detail, Map.of());
  }

  HttpProblem(Problem problem, String detail, Map<String, String> headers) {
    super(detail, null, false, false);
    this.problem = problem;
    this.headers = headers;
  }

  static HttpProblem retryAfter(Problem problem, String detail, long seconds) {
    return new HttpProblem(problem, detail, Map.of("Retry-After", Long.toString(Math.max(1, seconds))));
  }
}
