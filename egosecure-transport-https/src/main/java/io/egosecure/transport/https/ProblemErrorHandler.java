package io.egosecure.transport.https;

import io.egosecure.core.wire.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
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

  /**
   * Every method gets the problem body: Jetty's default writes one for GET, POST and HEAD only,
   * so a bad PUT or DELETE got an empty 400 or 431 with no Content-Type (found by FuzzIT).
   */
  @Override
  public boolean errorPageForMethod(String method) {
    return true;
  }

  @Override
  protected void generateResponse(
      Request request, Response response, int code, String message, Throwable cause, Callback callback)
      throws IOException {
    if (code == HttpStatus.HTTP_VERSION_NOT_SUPPORTED_505) {
      // A request line naming HTTP/9.9 is the client's mistake: a 4xx, never a 5xx.
      code = HttpStatus.BAD_REQUEST_400;
      message = "only HTTP/1.1 and HTTP/1.0 are served here";
      response.setStatus(code);
    }
    Problem problem = Problems.forStatus(code);
    // Jetty's message names the parse problem; it holds no secret, but keep it short.
    String detail = message == null ? problem.title : Call.clip(message);
    Problems.Body body = new Problems.Body(problem.type(), problem.title, code, detail, null);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, Problems.CONTENT_TYPE);
    response.write(true, ByteBuffer.wrap(Json.write(body)), callback);
  }
}
