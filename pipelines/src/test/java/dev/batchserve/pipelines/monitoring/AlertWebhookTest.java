package dev.batchserve.pipelines.monitoring;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** Alerts reach a receiver; a receiver that is down or failing is reported by the return value, never thrown. */
@RunWith(JUnit4.class)
public class AlertWebhookTest {
  @Test
  public void postsTheAlertJson() throws Exception {
    try (WebhookReceiver receiver = new WebhookReceiver(204)) {
      boolean sent = AlertWebhook.to(receiver.url())
          .send(AlertWebhook.alert("run_failed", "fraud-daily-20261128", "boom \"quoted\""));
      assertThat(sent, is(true));
      String body = receiver.bodies.poll(5, TimeUnit.SECONDS);
      assertThat(body, containsString("\"source\" : \"batchserve\""));
      assertThat(body, containsString("\"kind\" : \"run_failed\""));
      assertThat(body, containsString("\"run_id\" : \"fraud-daily-20261128\""));
      assertThat(body, containsString("\"message\" : \"boom \\\"quoted\\\"\""));
      assertThat(body, containsString("POST application/json"));
    }
  }

  @Test
  public void aFailingReceiverIsNotAnError() {
    try (WebhookReceiver receiver = new WebhookReceiver(500)) {
      assertThat(AlertWebhook.to(receiver.url()).send(AlertWebhook.alert("x", "r", "m")), is(false));
    }
  }

  @Test
  public void aReceiverThatIsDownIsNotAnError() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    long start = System.nanoTime();
    boolean sent = AlertWebhook.to("http://127.0.0.1:" + port + "/alert").withTimeout(Duration.ofSeconds(2))
        .send(AlertWebhook.alert("x", "r", "m"));
    assertThat(sent, is(false));
    assertThat((System.nanoTime() - start) < TimeUnit.SECONDS.toNanos(5), is(true));
    assertThat(AlertWebhook.sendIfConfigured("", AlertWebhook.alert("x", "r", "m")), is(false));
  }

  @Test
  public void rejectsANonHttpUrl() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AlertWebhook.to("ftp://x/y"));
    assertThat(e.getMessage(), containsString("alertWebhook must be an http(s) URL, but was 'ftp://x/y'"));
  }
}
