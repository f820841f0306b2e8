package dev.flinkslm.operators.internal;

import org.apache.flink.streaming.runtime.streamrecord.StreamElement;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Holds elements from arrival until emission and decides when results and markers (watermarks and
 * watermark statuses) may leave. Ordered: strictly in arrival order. Unordered: results leave as
 * they complete, but a marker leaves only after every element that arrived before it, and elements
 * that arrived after a marker leave only after it. So neither a watermark nor an IDLE status ever
 * overtakes an element that was queued before it. Task thread only.
 */
abstract class OutputQueue<IN> {

    /** Receives what may leave the operator now. */
    interface Emitter<IN> {
        void emit(PendingElement<IN> element) throws Exception;

        void emitMarker(StreamElement marker) throws Exception;
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

    /** A watermark or watermark status: leaves after every element queued before it. */
    abstract void addMarker(StreamElement marker) throws Exception;

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
        void addMarker(StreamElement marker) throws Exception {
            if (entries.isEmpty()) {
                emitter.emitMarker(marker);
            } else {
                entries.addLast(marker);
            }
        }

        @Override
        @SuppressWarnings("unchecked")
        void completed(PendingElement<IN> element) throws Exception {
            element.done = true;
            while (!entries.isEmpty()) {
                Object head = entries.peekFirst();
                if (!(head instanceof PendingElement<?>)) {
                    entries.pollFirst();
                    emitter.emitMarker((StreamElement) head);
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

        /** Elements between two markers, closed by the later one. */
        private static final class Segment<IN> {
            final Set<PendingElement<IN>> pending = new LinkedHashSet<>();
            final List<PendingElement<IN>> completedHeld = new ArrayList<>();
            StreamElement closing;
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
        void addMarker(StreamElement marker) throws Exception {
            Segment<IN> last = segments.peekLast();
            if (last == null) {
                emitter.emitMarker(marker);
                return;
            }
            if (last.closing != null) {
                last = new Segment<>();
                segments.addLast(last);
            }
            last.closing = marker;
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
                emitter.emitMarker(head.closing);
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
