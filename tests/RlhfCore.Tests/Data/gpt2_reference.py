# Cross-check for Gpt2BpeTokenizerTests: a transcription of OpenAI gpt-2 src/encoder.py (bytes_to_unicode, bpe,
# encode) on Python's `regex` module. Not run by the tests; run it (python3 gpt2_reference.py < strings.json, a JSON
# list of strings) to regenerate expected ids. Paths point at the shared test data.
import json, regex as re, sys
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~")+1))+list(range(ord("¡"), ord("¬")+1))+list(range(ord("®"), ord("ÿ")+1))
    cs = bs[:]; n = 0
    for b in range(2**8):
        if b not in bs: bs.append(b); cs.append(2**8+n); n += 1
    return dict(zip(bs, map(chr, cs)))
d='/work/shared/data/gpt2-tokenizer/'
enc=json.load(open(d+'vocab.json',encoding='utf-8'))
merges=open(d+'merges.txt',encoding='utf-8').read().split('\n')[1:-1]
ranks={tuple(m.split()):i for i,m in enumerate(merges)}
b2u=bytes_to_unicode()
pat=re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
cache={}
def bpe(token):
    if token in cache: return cache[token]
    word=tuple(token)
    while len(word)>1:
        pairs=set(zip(word,word[1:]))
        bigram=min(pairs,key=lambda p:ranks.get(p,float('inf')))
        if bigram not in ranks: break
        first,second=bigram; new=[]; i=0
        while i<len(word):
            try: j=word.index(first,i); new.extend(word[i:j]); i=j
            except ValueError: new.extend(word[i:]); break
            if word[i]==first and i<len(word)-1 and word[i+1]==second: new.append(first+second); i+=2
            else: new.append(word[i]); i+=1
        word=tuple(new)
    cache[token]=word; return word
def encode(text):
    out=[]
    parts=text.split('<|endoftext|>')
    for k,p in enumerate(parts):
        if k: out.append(50256)
        for t in re.findall(pat,p):
            t=''.join(b2u[b] for b in t.encode('utf-8'))
            out.extend(enc[x] for x in bpe(t))
    return out
if __name__=='__main__':
    for s in json.loads(sys.stdin.read()): print(json.dumps(s, ensure_ascii=True), encode(s))
