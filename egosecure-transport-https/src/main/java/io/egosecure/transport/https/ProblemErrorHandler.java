package io.egosecure.transport.https;

import io.egosecure.core.wire.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * What Jetty answers by itself (a malformed URI, headers over the limit, a request it cannot
 * parse) as problem+json too, without internals: a client sees one error format.
 */
final class ProblemErrorHandler extends ErrorHandler {
  ProblemErrorHandler() {
    setShowStacks(false);
    setShowMessageInTitle(false);
  }

  @Override
  protected void generateResponse(
      Request request, Response response, int code, String message, Throwable cause, Callback callback)
      throws IOException {
    Problem problem = Problems.forStatus(code);
    // Jetty's message names the parse problem; it holds no secret, but keep it short.
    String detail = message == null ? problem.title : Call.clip(message);
    Problems.Body body = new Problems.Body(problem.type(), problem.title, code, detail, null);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, Problems.CONTENT_TYPE);
    response.write(true, ByteBuffer.wrap(Json.write(body)), callback);
  }
}
