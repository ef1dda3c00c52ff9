import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local 3.3.0 as the local stack runs it (local/embedded-dynamodb.ts starts this file
 * with `java`'s source-file mode, so no compiled class is committed and no javac is needed).
 *
 * DynamoDB Local has no bind option: its DynamoDBProxyServer builds Jetty's `new Server(port)`,
 * whose connector listens on every interface, and it accepts any credentials. This starts the
 * same server, but first points that connector at 127.0.0.1 and a free port, and puts a guard
 * in front of its handler that refuses every request without the per-run token the stack's
 * SigV4-checking proxy adds: nothing but that proxy can use it, not even from loopback.
 *
 * Arguments are DynamoDB Local's own (-inMemory | -dbPath DIR, -sharedDb). The token comes in
 * the environment (STOWAGE_DYNAMODB_TOKEN), never on the command line, which other users of the
 * machine can read. Prints "STOWAGE_DYNAMODB_LISTENING <port>" once it accepts connections, and
 * exits when its standard input closes, so it cannot outlive the process that started it.
 */
public final class LoopbackDynamoDbLocal {
  static final String TOKEN_HEADER = "x-stowage-proxy-token";

  public static void main(String[] args) throws Exception {
    String token = System.getenv("STOWAGE_DYNAMODB_TOKEN");
    if (token == null || token.length() < 32) {
      System.err.println("STOWAGE_DYNAMODB_TOKEN (32+ characters) is required.");
      System.exit(2);
    }
    DynamoDBProxyServer dynamo = ServerRunner.createServerFromCommandLineArgs(args);
    // Telemetry is set up by ServerRunner.main only, which this does not call: nothing is sent.
    Server jetty = jettyOf(dynamo);
    ServerConnector connector = (ServerConnector) jetty.getConnectors()[0];
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    jetty.setHandler(new Guard(jetty.getHandler(), token.getBytes(StandardCharsets.UTF_8)));
    dynamo.start();
    System.out.println("STOWAGE_DYNAMODB_LISTENING " + connector.getLocalPort());
    System.out.flush();
    saveCompiledClasses();
    while (System.in.read() != -1) {
      // The parent never writes; end of input means it is gone.
    }
    System.exit(0);
  }

  /** The Jetty server DynamoDBProxyServer keeps in a private field (checked against 3.3.0). */
  private static Server jettyOf(DynamoDBProxyServer dynamo) throws ReflectiveOperationException {
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    return (Server) field.get(dynamo);
  }

  /**
   * With -Dstowage.classCache=DIR (source-file mode), writes the classes compiled from this file
   * there, so the next start skips compiling (several seconds of CPU on a small machine).
   */
  private static void saveCompiledClasses() {
    String dir = System.getProperty("stowage.classCache");
    if (dir == null) return;
    try {
      Path target = Path.of(dir);
      Files.createDirectories(target);
      for (Class<?> type : new Class<?>[] {LoopbackDynamoDbLocal.class, Guard.class}) {
        String name = type.getName() + ".class";
        try (InputStream bytes = type.getClassLoader().getResourceAsStream(name)) {
          if (bytes == null) return;
          Path partial = Files.createTempFile(target, name, ".partial");
          Files.copy(bytes, partial, StandardCopyOption.REPLACE_EXISTING);
          Files.move(partial, target.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        }
      }
    } catch (IOException | RuntimeException error) {
      System.err.println("could not cache the compiled launcher: " + error);
    }
  }

  /** Refuses (403) every request that does not carry the proxy's token. */
  static final class Guard extends Handler.Wrapper {
    private final byte[] token;

    Guard(Handler inner, byte[] token) {
      super(inner);
      this.token = token;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      String given = request.getHeaders().get(TOKEN_HEADER);
      if (given == null || !MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8))) {
        Response.writeError(request, response, callback, 403);
        return true;
      }
      return super.handle(request, response, callback);
    }
  }
}
