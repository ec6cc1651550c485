package io.egosecure.transport.https;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bodies must arrive at the minimum rate; requests without one (every poll) skip the rate check's
 * wrappers and must still be answered as before.
 */
class MinimumDataRateIT {
  private static final long MIN_BYTES_PER_SECOND = 200;

  private HttpsFixture fixture;
  private HttpsFixture.Story story;

  @BeforeEach
  void start() throws Exception {
    fixture = new HttpsFixture(UnaryOperator.identity(),
        limits -> limits.minRequestBytesPerSecond(MIN_BYTES_PER_SECOND));
    story = fixture.story();
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  @Test
  void aBodyTricklingInBelowTheMinimumRateIsCutOff() throws Exception {
    String head = "POST /v1/agent/status HTTP/1.1\r\nHost: localhost\r\n"
        + "Authorization: Bearer " + story.agentCredential() + "\r\n"
        + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    long start = System.nanoTime();
    String answer;
    try (Socket plain = new Socket("127.0.0.1", fixture.https.port());
        SSLSocket socket = (SSLSocket) TestCertificates.clientContext(fixture.serverIdentity, null).getSocketFactory()
            .createSocket(plain, "localhost", fixture.https.port(), true)) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Thread reader = Thread.currentThread();
      try {
        // 4 bytes a second, far below the minimum; a server without the check would wait 250 s.
        for (int i = 0; i < 60; i++) {
          out.write(' ');
          out.flush();
          Thread.sleep(250);
          if (plain.isInputShutdown() || reader.isInterrupted()) {
            break;
          }
          if (socket.getInputStream().available() > 0) {
            break;
          }
        }
      } catch (IOException closedByTheServer) {
        // What the check does to a slow sender.
      }
      InputStream in = socket.getInputStream();
      try {
        answer = new String(in.readNBytes(16 * 1024), StandardCharsets.ISO_8859_1);
      } catch (IOException reset) {
        answer = "";
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;

    assertThat(seconds).as("cut off well before the body could have arrived").isLessThan(14);
    assertThat(answer).as("no success and no server error").doesNotStartWith("HTTP/1.1 2").doesNotStartWith("HTTP/1.1 5");
    assertThat(fixture.get("/health/live", null).statusCode()).isEqualTo(200);
  }

  @Test
  void aPollWithoutABodyIsAnsweredAsBefore() throws Exception {
    String poll = "GET /v1/agent/policies HTTP/1.1\r\nHost: localhost\r\n"
        + "Authorization: Bearer " + story.agentCredential() + "\r\nConnection: close\r\n\r\n";
    String answer = fixture.raw(poll.getBytes(StandardCharsets.US_ASCII), new byte[0]);

    assertThat(answer).startsWith("HTTP/1.1 200").contains("ETag: \"").contains("Cache-Control: no-store");
  }
}
