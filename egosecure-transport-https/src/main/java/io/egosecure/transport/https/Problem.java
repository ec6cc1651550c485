package io.egosecure.transport.https;

/**
 * The RFC 9457 problem types this API answers with. Each {@code type} URI is stable: clients may
 * switch on it. docs/protocol.md lists them.
 */
enum Problem {
  INVALID_REQUEST(400, "invalid-request", "The request is invalid"),
  UNAUTHENTICATED(401, "unauthenticated", "A valid credential is required"),
  FORBIDDEN(403, "forbidden", "Your role may not do this"),
  NOT_FOUND(404, "not-found", "No such resource"),
  METHOD_NOT_ALLOWED(405, "method-not-allowed", "This method is not allowed here"),
  PRECONDITION_FAILED(412, "precondition-failed", "The resource has changed"),
  PAYLOAD_TOO_LARGE(413, "payload-too-large", "The request body is too large"),
  UNSUPPORTED_MEDIA_TYPE(415, "unsupported-media-type", "The body must be application/json"),
  PRECONDITION_REQUIRED(428, "precondition-required", "If-Match is required"),
  RATE_LIMITED(429, "rate-limited", "Too many requests"),
  HEADERS_TOO_LARGE(431, "headers-too-large", "The request headers are too large"),
  INTERNAL(500, "internal", "Internal server error"),
  OVERLOADED(503, "overloaded", "The server is at capacity"),
  STORE_UNAVAILABLE(503, "store-unavailable", "The store is unavailable");

  static final String TYPE_PREFIX = "https://egosecure.io/problems/";

  final int status;
  final String slug;
  final String title;

  Problem(int status, String slug, String title) {
    this.status = status;
    this.slug = slug;
    this.title = title;
  }

  String type() {
    return TYPE_PREFIX + slug;
  }
}
