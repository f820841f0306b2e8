package dev.flinkslm.table;

import org.apache.flink.util.ExceptionUtils;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.Property;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Every log line (message and stack trace) at INFO and above while it is open, of every logger of the JVM. */
final class LogCapture implements AutoCloseable {

    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final LoggerContext context = (LoggerContext) LogManager.getContext(false);
    private final Level rootLevel = context.getRootLogger().getLevel();
    private final AbstractAppender appender = new AbstractAppender("capture", null, null, true, Property.EMPTY_ARRAY) {
        @Override
        public void append(LogEvent event) {
            if (event.getLevel().isMoreSpecificThan(Level.INFO)) {
                String thrown =
                        event.getThrown() == null ? "" : "\n" + ExceptionUtils.stringifyException(event.getThrown());
                lines.add(event.getLevel() + " " + event.getLoggerName() + " "
                        + event.getMessage().getFormattedMessage() + thrown);
            }
        }
    };

    private LogCapture() {
        appender.start();
        context.getConfiguration().getRootLogger().addAppender(appender, Level.INFO, null);
        Configurator.setRootLevel(Level.INFO);
        context.updateLoggers();
    }

    static LogCapture atInfo() {
        return new LogCapture();
    }

    List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void close() {
        context.getConfiguration().getRootLogger().removeAppender("capture");
        Configurator.setRootLevel(rootLevel);
        context.updateLoggers();
        appender.stop();
    }
}
