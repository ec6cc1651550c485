package io.egosecure.transport.https;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What an endpoint answers: a status, headers and a JSON body (a message record, or bytes that are
 * JSON already), or a reply that is not ready yet (a parked long poll).
 */
sealed interface Reply permits Reply.Now, Reply.Later {

  static Now json(int status, Object body) {
    return new Now(status, body, null, new LinkedHashMap<>());
  }

  static Now bytes(int status, ByteBuffer body) {
    return new Now(status, null, body, new LinkedHashMap<>());
  }

  static Now empty(int status) {
    return new Now(status, null, null, new LinkedHashMap<>());
  }

  static Later later(CompletableFuture<Now> reply) {
    return new Later(reply);
  }

  /** A complete answer. {@code body} is a message record; {@code raw} is JSON bytes as they are. */
  record Now(int status, Object body, ByteBuffer raw, Map<String, String> headers) implements Reply {
    Now header(String name, String value) {
      headers.put(name, value);
      return this;
    }
  }

  /** An answer that completes later, without holding a thread meanwhile. */
  record Later(CompletableFuture<Now> reply) implements Reply {}
}
