package dev.batchserve.pipelines.monitoring;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** A local HTTP endpoint that records the bodies POSTed to {@code /alert} and answers with a fixed status. */
final class WebhookReceiver implements AutoCloseable {
  final BlockingQueue<String> bodies = new LinkedBlockingQueue<>();
  private final HttpServer server;

  WebhookReceiver(int status) {
    try {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/alert", exchange -> {
      bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)
          + "\n" + exchange.getRequestMethod() + " " + exchange.getRequestHeaders().getFirst("Content-Type"));
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/alert";
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
