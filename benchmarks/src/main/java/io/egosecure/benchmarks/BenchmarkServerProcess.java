package io.egosecure.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@link BenchmarkServer} in a JVM of its own, driven through its standard input. Every call
 * waits for the server's answer line; a server that exits makes it throw, naming its log.
 */
final class BenchmarkServerProcess implements AutoCloseable {
  private final Process process;
  private final BufferedReader out;
  private final Writer in;
  private final Path log;
  private final int port;

  private BenchmarkServerProcess(Process process, Path log) throws IOException {
    this.process = process;
    this.log = log;
    this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    this.port = Integer.parseInt(reply("ready")[1]);
  }

  /**
   * Starts a server and waits until it listens.
   *
   * @param heap the server JVM's heap, as in {@code -Xmx} (also its {@code -Xms}: no resizing mid-run)
   * @param log where the server's log goes (appended: a restarted node keeps one log)
   * @param options {@link BenchmarkServer}'s options, {@code --work} included
   */
  static BenchmarkServerProcess start(String heap, Path log, String... options) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx" + heap, "-Xms" + heap,
        "-cp", System.getProperty("java.class.path"), BenchmarkServer.class.getName()));
    command.addAll(List.of(options));
    Process process = new ProcessBuilder(command)
        .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    return new BenchmarkServerProcess(process, log);
  }

  int port() {
    return port;
  }

  long pid() {
    return process.pid();
  }

  /**
   * The server JVM's CPU time so far (user and system, from {@code /proc/PID/stat} in clock ticks
   * of 10 ms), read from outside so that it can be taken while the server is too busy to answer.
   */
  Duration cpuTime() {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
      // Fields after the command's closing parenthesis; utime and stime are the 14th and 15th.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Duration.ofMillis((Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10);
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("cannot read the CPU time of server " + process.pid(), e);
    }
  }

  /** Heap after a full GC and threads: for before/after comparisons, not during a timed phase. */
  synchronized State state() throws IOException {
    String[] reply = command("state");
    return new State(Long.parseLong(reply[1]), Integer.parseInt(reply[2]), Integer.parseInt(reply[3]),
        (int) Double.parseDouble(reply[4]), Integer.parseInt(reply[5]));
  }

  /** Heap in use (no GC), threads, open files, polls answered so far, push sockets: cheap to sample. */
  synchronized Gauges gauges() throws IOException {
    String[] reply = command("gauges");
    return new Gauges(Long.parseLong(reply[1]), Integer.parseInt(reply[2]), Long.parseLong(reply[3]),
        Long.parseLong(reply[4]), (int) Double.parseDouble(reply[5]));
  }

  /** The open push sockets now, without the full GC of {@link #state()}. */
  synchronized int sockets() throws IOException {
    return (int) Double.parseDouble(command("sockets")[1]);
  }

  /** The parked polls now, without the full GC of {@link #state()}. */
  synchronized int parked() throws IOException {
    return Integer.parseInt(command("parked")[1]);
  }

  /**
   * The last publish's server-side broadcast and the server's CPU from the commit until it
   * ended, in microseconds; -1 if none was recorded.
   */
  synchronized long[] broadcast() throws IOException {
    String[] reply = command("broadcast");
    return new long[] {Long.parseLong(reply[1]), Long.parseLong(reply[2])};
  }

  /**
   * With {@code -Dhistogram=true}, writes the server's class histogram (jcmd GC.class_histogram)
   * to {@code TMP/egosecure-histogram-NAME.txt}: where its heap goes. With {@code
   * -Dheap.dump=true} also a heap dump beside it.
   */
  void histogram(String name) throws IOException, InterruptedException {
    if (!Boolean.getBoolean("histogram")) {
      return;
    }
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Path file = Path.of(System.getProperty("java.io.tmpdir")).resolve("egosecure-histogram-" + name + ".txt");
    new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.class_histogram")
        .redirectOutput(file.toFile()).redirectErrorStream(true).start().waitFor();
    System.out.println("class histogram: " + file);
    if (Boolean.getBoolean("heap.dump")) {
      Path dump = file.resolveSibling("egosecure-heap-" + name + ".hprof");
      java.nio.file.Files.deleteIfExists(dump);
      new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.heap_dump", dump.toString())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
      System.out.println("heap dump: " + dump);
    }
  }

  synchronized Published publish() throws IOException {
    String[] reply = command("publish");
    return new Published(Long.parseLong(reply[1]), Long.parseLong(reply[2]), Long.parseLong(reply[3]));
  }

  /** Kills the JVM at once (SIGKILL): its sockets are reset, nothing is closed cleanly. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  private String[] command(String command) throws IOException {
    in.write(command + "\n");
    in.flush();
    return reply(command.equals("publish") ? "published" : command);
  }

  private String[] reply(String expected) throws IOException {
    for (String line; (line = out.readLine()) != null; ) {
      if (line.startsWith("@")) {
        String[] words = line.substring(1).split(" ");
        if (!words[0].equals(expected)) {
          throw new IllegalStateException("the server answered " + line + " instead of @" + expected);
        }
        return words;
      }
    }
    throw new IllegalStateException("the server exited (" + (process.isAlive() ? "still running" : "exit " + process.exitValue())
        + "); see " + log);
  }

  /** Stops the server cleanly ({@code quit}), or kills it if it does not exit within 20 s. */
  @Override
  public void close() throws InterruptedException {
    try {
      in.write("quit\n");
      in.flush();
    } catch (IOException gone) {
      // Already exited: nothing to tell it.
    }
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      kill();
    }
  }

  record State(long heapBytes, int threads, int idlePoolThreads, int pushSockets, int parkedPolls) {
    /** Threads other than idle pool ones: what parked polls or open sockets would add. */
    int working() {
      return threads - idlePoolThreads;
    }

    String threadsText() {
      return threads + " (" + working() + " not idle in the pool)";
    }
  }

  record Gauges(long heapBytes, int threads, long openFiles, long polls, int pushSockets) {}

  /** A publish: its revision, when it committed and when the call returned (epoch µs). */
  record Published(long revision, long commitMicros, long returnedMicros) {}
}
