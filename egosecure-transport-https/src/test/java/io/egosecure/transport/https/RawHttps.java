package io.egosecure.transport.https;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * Sends bytes exactly as given over a new TLS connection to 127.0.0.1 and parses what comes back,
 * for requests no HTTP client library would send. One SSLContext for all connections, so TLS
 * sessions resume and a fuzz run spends its time on requests rather than handshakes.
 */
final class RawHttps {
  private static final int MAX_ANSWER_BYTES = 4 * 1024 * 1024;

  private final SSLContext context;
  private final int port;

  RawHttps(SSLContext context, int port) {
    this.context = context;
    this.port = port;
  }

  /** What the server answered; {@code status} 0 when it closed or timed out without an answer. */
  record Answer(int status, List<String[]> headers, byte[] body, String failure) {
    Optional<String> header(String name) {
      return headers.stream().filter(h -> h[0].equalsIgnoreCase(name)).map(h -> h[1]).findFirst();
    }

    String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }

    String statusLine() {
      return status == 0 ? "(no answer: " + failure + ")" : Integer.toString(status);
    }
  }

  SSLSocket open(int timeoutMillis) throws IOException {
    Socket plain = new Socket("127.0.0.1", port);
    // Else Nagle holds the request behind the un-ACKed handshake for a delayed ACK (40 ms).
    plain.setTcpNoDelay(true);
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, "localhost", port, true);
    socket.setSoTimeout(timeoutMillis);
    socket.startHandshake();
    return socket;
  }

  Answer send(byte[] request, boolean headRequest, int timeoutMillis) {
    try (SSLSocket socket = open(timeoutMillis)) {
      OutputStream out = socket.getOutputStream();
      try {
        out.write(request);
        out.flush();
      } catch (IOException serverClosedEarly) {
        // The server may answer and close before reading a body it refuses: read that answer.
      }
      return read(socket.getInputStream(), headRequest);
    } catch (SocketTimeoutException e) {
      return new Answer(0, List.of(), new byte[0], "timed out after " + timeoutMillis + " ms");
    } catch (IOException e) {
      return new Answer(0, List.of(), new byte[0], e.toString());
    }
  }

  /** Reads one HTTP/1.1 response from {@code in}: status line, headers and body. */
  static Answer read(InputStream in, boolean headRequest) throws IOException {
    String statusLine = line(in);
    while (statusLine != null && statusLine.startsWith("HTTP/1.1 100 ")) {
      // An interim answer to Expect: 100-continue; the final one follows.
      while (!Objects.requireNonNullElse(line(in), "").isEmpty()) {
        // its headers, if any
      }
      statusLine = line(in);
    }
    if (statusLine == null) {
      return new Answer(0, List.of(), new byte[0], "connection closed before a status line");
    }
    if (!statusLine.startsWith("HTTP/1.1 ") || statusLine.length() < 12) {
      return new Answer(0, List.of(), new byte[0], "not an HTTP/1.1 status line: " + statusLine);
    }
    int status = Integer.parseInt(statusLine.substring(9, 12));
    List<String[]> headers = new ArrayList<>();
    String line;
    while ((line = line(in)) != null && !line.isEmpty()) {
      int colon = line.indexOf(':');
      headers.add(new String[] {line.substring(0, Math.max(colon, 0)), line.substring(colon + 1).strip()});
    }
    Answer head = new Answer(status, headers, new byte[0], null);
    if (headRequest || status == 204 || status == 304 || status == 101 || status / 100 == 1) {
      return head;
    }
    Optional<String> length = head.header("Content-Length");
    byte[] body;
    if (length.isPresent()) {
      body = in.readNBytes((int) Math.min(Long.parseLong(length.get()), MAX_ANSWER_BYTES));
    } else if (head.header("Transfer-Encoding").map(v -> v.toLowerCase(Locale.ROOT).contains("chunked")).orElse(false)) {
      body = chunked(in);
    } else {
      body = in.readNBytes(MAX_ANSWER_BYTES);
    }
    return new Answer(status, headers, body, null);
  }

  private static byte[] chunked(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String size = line(in);
      if (size == null) {
        return body.toByteArray();
      }
      int length = Integer.parseInt(size.split(";", 2)[0].strip(), 16);
      if (length == 0) {
        line(in);
        return body.toByteArray();
      }
      body.write(in.readNBytes(length));
      line(in);
    }
  }

  /** A CRLF-terminated line in ISO-8859-1, or null at the end of the stream. */
  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
      if (line.size() > 64 * 1024) {
        throw new IOException("a header line over 64 KiB");
      }
    }
    return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
  }
}
