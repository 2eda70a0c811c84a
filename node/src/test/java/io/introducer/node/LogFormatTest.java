package io.introducer.node;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import io.vertx.core.json.JsonObject;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import org.junit.jupiter.api.Test;

/** conf/logback.xml: INTRODUCER_LOG_FORMAT picks the plain pattern (default) or one JSON object per line. */
class LogFormatTest {

  /** Configures a fresh logger context from the shipped logback.xml with the given format (null: unset). */
  private static Appender<ch.qos.logback.classic.spi.ILoggingEvent> rootAppender(String format) throws Exception {
    LoggerContext ctx = new LoggerContext();
    if (format != null) {
      ctx.putProperty("INTRODUCER_LOG_FORMAT", format);
    }
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(ctx);
    URL conf = LogFormatTest.class.getResource("/logback.xml");
    assertThat(conf).as("conf/logback.xml on the node's classpath").isNotNull();
    configurator.doConfigure(conf);
    Iterator<Appender<ch.qos.logback.classic.spi.ILoggingEvent>> it =
        ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).iteratorForAppenders();
    assertThat(it.hasNext()).as("root has an appender").isTrue();
    Appender<ch.qos.logback.classic.spi.ILoggingEvent> appender = it.next();
    assertThat(it.hasNext()).as("exactly one appender").isFalse();
    return appender;
  }

  private static String encode(Appender<ch.qos.logback.classic.spi.ILoggingEvent> appender) {
    Encoder<ch.qos.logback.classic.spi.ILoggingEvent> encoder =
        ((OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent>) appender).getEncoder();
    LoggerContext ctx = new LoggerContext();
    ctx.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    LoggingEvent event = new LoggingEvent("fqcn", ctx.getLogger("io.introducer.Test"), Level.WARN,
        "peer {} said \"hi\"", null, new Object[] {"alice"});
    return new String(encoder.encode(event), StandardCharsets.UTF_8);
  }

  @Test
  void theDefaultIsTheTextPattern() throws Exception {
    String line = encode(rootAppender(null));
    assertThat(line).contains("WARN ").contains("peer alice said \"hi\"").doesNotStartWith("{");
  }

  @Test
  void jsonGivesOneParseableObjectPerLine() throws Exception {
    String line = encode(rootAppender("json"));
    assertThat(line).endsWith("\n");
    assertThat(line.strip()).doesNotContain("\n");
    JsonObject json = new JsonObject(line.strip());
    assertThat(json.getString("level")).isEqualTo("WARN");
    assertThat(json.getString("loggerName")).isEqualTo("io.introducer.Test");
    assertThat(json.getString("formattedMessage")).isEqualTo("peer alice said \"hi\"");
    assertThat(json.getLong("timestamp")).isPositive();
  }
}
