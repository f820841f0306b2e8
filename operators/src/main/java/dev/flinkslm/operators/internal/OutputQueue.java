package dev.flinkslm.operators.internal;

import org.apache.flink.streaming.api.watermark.Watermark;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Holds elements from arrival until emission and decides when results and watermarks may leave.
 * Ordered: strictly in arrival order. Unordered: results leave as they complete, but a watermark
 * leaves only after every element that arrived before it, and elements that arrived after a
 * watermark leave only after it. Task thread only.
 */
abstract class OutputQueue<IN> {

    /** Receives what may leave the operator now. */
    interface Emitter<IN> {
        void emit(PendingElement<IN> element) throws Exception;

        void emitWatermark(Watermark watermark) throws Exception;
    }

    protected final Emitter<IN> emitter;
    protected int elements;

    OutputQueue(Emitter<IN> emitter) {
        this.emitter = emitter;
    }

    static <IN> OutputQueue<IN> create(boolean ordered, Emitter<IN> emitter) {
        return ordered ? new Ordered<>(emitter) : new Unordered<>(emitter);
    }

    abstract void add(PendingElement<IN> element) throws Exception;

    abstract void addWatermark(Watermark watermark) throws Exception;

    /** The element's result or failure is set: emit whatever is now allowed to leave. */
    abstract void completed(PendingElement<IN> element) throws Exception;

    /** Elements not emitted yet, in arrival order. */
    abstract List<PendingElement<IN>> unemitted();

    int size() {
        return elements;
    }

    boolean isEmpty() {
        return elements == 0;
    }

    static final class Ordered<IN> extends OutputQueue<IN> {
        private final Deque<Object> entries = new ArrayDeque<>();

        Ordered(Emitter<IN> emitter) {
            super(emitter);
        }

        @Override
        void add(PendingElement<IN> element) {
            entries.addLast(element);
            elements++;
        }

        @Override
        void addWatermark(Watermark watermark) throws Exception {
            if (entries.isEmpty()) {
                emitter.emitWatermark(watermark);
            } else {
                entries.addLast(watermark);
            }
        }

        @Override
        @SuppressWarnings("unchecked")
        void completed(PendingElement<IN> element) throws Exception {
            element.done = true;
            while (!entries.isEmpty()) {
                Object head = entries.peekFirst();
                if (head instanceof Watermark w) {
                    entries.pollFirst();
                    emitter.emitWatermark(w);
                } else if (((PendingElement<IN>) head).done) {
                    entries.pollFirst();
                    elements--;
                    emitter.emit((PendingElement<IN>) head);
                } else {
                    break;
                }
            }
        }

        @Override
        @SuppressWarnings("unchecked")
        List<PendingElement<IN>> unemitted() {
            List<PendingElement<IN>> out = new ArrayList<>(elements);
            for (Object o : entries) {
                if (o instanceof PendingElement<?> p) {
                    out.add((PendingElement<IN>) p);
                }
            }
            return out;
        }
    }

    static final class Unordered<IN> extends OutputQueue<IN> {

        /** Elements between two watermarks, closed by the later one. */
        private static final class Segment<IN> {
            final Set<PendingElement<IN>> pending = new LinkedHashSet<>();
            final List<PendingElement<IN>> completedHeld = new ArrayList<>();
            Watermark closing;
        }

        private final Deque<Segment<IN>> segments = new ArrayDeque<>();

        Unordered(Emitter<IN> emitter) {
            super(emitter);
        }

        @Override
        void add(PendingElement<IN> element) {
            Segment<IN> last = segments.peekLast();
            if (last == null || last.closing != null) {
                last = new Segment<>();
                segments.addLast(last);
            }
            last.pending.add(element);
            element.segment = last;
            elements++;
        }

        @Override
        void addWatermark(Watermark watermark) throws Exception {
            Segment<IN> last = segments.peekLast();
            if (last == null) {
                emitter.emitWatermark(watermark);
                return;
            }
            if (last.closing != null) {
                last = new Segment<>();
                segments.addLast(last);
            }
            last.closing = watermark;
            drain();
        }

        @Override
        @SuppressWarnings("unchecked")
        void completed(PendingElement<IN> element) throws Exception {
            element.done = true;
            Segment<IN> segment = (Segment<IN>) element.segment;
            segment.pending.remove(element);
            if (segment == segments.peekFirst()) {
                elements--;
                emitter.emit(element);
            } else {
                segment.completedHeld.add(element);
            }
            drain();
        }

        private void drain() throws Exception {
            while (!segments.isEmpty()) {
                Segment<IN> head = segments.peekFirst();
                for (PendingElement<IN> held : head.completedHeld) {
                    elements--;
                    emitter.emit(held);
                }
                head.completedHeld.clear();
                if (!head.pending.isEmpty() || head.closing == null) {
                    return;
                }
                segments.pollFirst();
                emitter.emitWatermark(head.closing);
            }
        }

        @Override
        List<PendingElement<IN>> unemitted() {
            List<PendingElement<IN>> out = new ArrayList<>(elements);
            for (Segment<IN> s : segments) {
                out.addAll(s.pending);
                out.addAll(s.completedHeld);
            }
            out.sort(Comparator.comparingLong(p -> p.sequence));
            return out;
        }
    }
}
