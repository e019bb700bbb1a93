#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the seed corpora under tests/fuzz/corpus/ (small valid inputs, one per shape the
parsers accept). The seeds are committed; rerun this after changing it:
    python3 tests/fuzz/make-seeds.py"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(corpus, name, data):
    d = os.path.join(HERE, 'corpus', corpus)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# ---- protobuf, just enough for ONNX ----
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(num, v):
    return varint(num << 3) + varint(v)


def f_bytes(num, b):
    if isinstance(b, str):
        b = b.encode()
    return varint(num << 3 | 2) + varint(len(b)) + b


def value_info(name, dims):
    shape = b''.join(f_bytes(1, f_varint(1, d) if isinstance(d, int) else f_bytes(2, d))
                     for d in dims)
    tensor_type = f_varint(1, 1) + f_bytes(2, shape)        # FLOAT
    return f_bytes(1, name) + f_bytes(2, f_bytes(1, tensor_type))


def tensor(name, dims, floats):
    return (b''.join(f_varint(1, d) for d in dims) + f_varint(2, 1) + f_bytes(8, name) +
            f_bytes(9, struct.pack('<%df' % len(floats), *floats)))


def attr_ints(name, values):
    return f_bytes(1, name) + b''.join(f_varint(8, v) for v in values) + f_varint(20, 7)


def node(op, inputs, outputs, attrs=()):
    return (b''.join(f_bytes(1, i) for i in inputs) + b''.join(f_bytes(2, o) for o in outputs) +
            f_bytes(3, op.lower()) + f_bytes(4, op) + b''.join(f_bytes(5, a) for a in attrs))


def model(nodes, inits, inputs, outputs, opset=13):
    graph = (b''.join(f_bytes(1, n) for n in nodes) + f_bytes(2, 'seed') +
             b''.join(f_bytes(5, t) for t in inits) +
             b''.join(f_bytes(11, v) for v in inputs) + b''.join(f_bytes(12, v) for v in outputs))
    return f_varint(1, 8) + f_bytes(7, graph) + f_bytes(8, f_bytes(1, '') + f_varint(2, opset))


put('onnx', 'relu.onnx', model([node('Relu', ['x'], ['y'])], [],
                               [value_info('x', [1, 3, 'h', 'w'])],
                               [value_info('y', [1, 3, 'h', 'w'])]))
put('onnx', 'conv1x1.onnx',
    model([node('Conv', ['x', 'w', 'b'], ['y'],
                [attr_ints('kernel_shape', [1, 1]), attr_ints('pads', [0, 0, 0, 0])])],
          [tensor('w', [2, 3, 1, 1], [0.5, 0.25, 0.25, -1, 0, 1]), tensor('b', [2], [0.1, 0])],
          [value_info('x', [1, 3, 4, 4])], [value_info('y', [1, 2, 4, 4])]))
put('onnx', 'add-sigmoid.onnx',
    model([node('Add', ['x', 'c'], ['s']), node('Sigmoid', ['s'], ['y'])],
          [tensor('c', [1, 3, 1, 1], [0.1, 0.2, 0.3])],
          [value_info('x', [1, 3, 2, 2])], [value_info('y', [1, 3, 2, 2])]))


# ---- TF.js layers model: model.json NUL weights ----
def tfjs(layers, weights, inp, out):
    specs, blob = [], b''
    for name, shape, values in weights:
        specs.append({'name': name, 'shape': shape, 'dtype': 'float32'})
        blob += struct.pack('<%df' % len(values), *values)
    doc = {'format': 'layers-model', 'generatedBy': 'keras v2.10.0', 'convertedBy': 'seed',
           'modelTopology': {'keras_version': '2.10.0', 'backend': 'tensorflow',
                             'model_config': {'class_name': 'Functional', 'config': {
                                 'name': 'm', 'layers': layers,
                                 'input_layers': [[inp, 0, 0]],
                                 'output_layers': [[out, 0, 0]]}}},
           'weightsManifest': [{'paths': ['group1-shard1of1.bin'], 'weights': specs}]}
    return json.dumps(doc).encode() + b'\0' + blob


def layer(cls, name, cfg, inbound):
    c = {'name': name, 'dtype': 'float32'}
    c.update(cfg)
    return {'class_name': cls, 'name': name, 'config': c,
            'inbound_nodes': [[[i, 0, 0, {}] for i in inbound]] if inbound else []}


inp = layer('InputLayer', 'input', {'batch_input_shape': [None, None, None, 3],
                                    'sparse': False, 'ragged': False}, None)


def conv_cfg(filters, k, act):
    return {'filters': filters, 'kernel_size': [k, k], 'strides': [1, 1], 'padding': 'same',
            'data_format': 'channels_last', 'dilation_rate': [1, 1], 'groups': 1,
            'activation': act, 'use_bias': True, 'kernel_regularizer': None}


put('tfjs', 'conv1x1.bin', tfjs(
    [inp, layer('Conv2D', 'c1', conv_cfg(3, 1, 'linear'), ['input'])],
    [('c1/kernel', [1, 1, 3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1]), ('c1/bias', [3], [0, 0, 0])],
    'input', 'c1'))
put('tfjs', 'conv3x3-relu-add.bin', tfjs(
    [inp, layer('Conv2D', 'c1', conv_cfg(3, 3, 'relu'), ['input']),
     layer('Add', 'add', {}, ['input', 'c1'])],
    [('c1/kernel', [3, 3, 3, 3], [0.01 * i for i in range(81)]), ('c1/bias', [3], [0, 0.1, 0])],
    'input', 'add'))


# ---- safetensors ----
def safetensors(tensors, metadata=None):
    header, blob, off = {}, b'', 0
    if metadata:
        header['__metadata__'] = metadata
    for name, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        header[name] = {'dtype': 'F16', 'shape': shape, 'data_offsets': [off, off + 2 * n]}
        blob += b'\0\0' * n
        off += 2 * n
    h = json.dumps(header).encode()
    return struct.pack('<Q', len(h)) + h + blob


put('safetensors', 'sd15-lora.safetensors', safetensors([
    ('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight',
     [1, 768]),
    ('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight',
     [320, 1]),
    ('lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight', [1, 768]),
], {'ss_base_model_version': 'sd_v1', 'ss_network_dim': '4'}))
put('safetensors', 'sdxl-lora.safetensors', safetensors([
    ('lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_down.weight', [1, 2048]),
    ('lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_up.weight', [640, 1]),
    ('lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight', [1, 768]),
    ('lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight', [1, 1280]),
]))
put('safetensors', 'flux-lora.safetensors', safetensors([
    ('transformer.single_transformer_blocks.0.attn.to_k.lora_A.weight', [1, 3072]),
    ('transformer.single_transformer_blocks.0.attn.to_k.lora_B.weight', [3072, 1]),
    ('transformer.transformer_blocks.0.attn.to_q.lora_A.weight', [1, 3072]),
]))


# ---- .cube ----
def cube(size, title=None, domain=None):
    lines = ['# seed']
    if title:
        lines.append('TITLE "%s"' % title)
    lines.append('LUT_3D_SIZE %d' % size)
    if domain:
        lines.append('DOMAIN_MIN %s' % domain[0])
        lines.append('DOMAIN_MAX %s' % domain[1])
    for b in range(size):
        for g in range(size):
            for r in range(size):
                lines.append('%.6f %.6f %.6f' % (r / (size - 1), g / (size - 1), b / (size - 1)))
    return '\n'.join(lines) + '\n'


put('cube', 'identity-2.cube', cube(2))
put('cube', 'identity-5-title.cube', cube(5, 'Seed look'))
put('cube', 'domain-3.cube', cube(3, None, ('0 0 0', '1 1 1')).replace('\n', '\r\n'))
with open(os.path.join(ROOT, 'data', 'brand', 'northwind-warm.cube'), 'rb') as f:
    put('cube', 'northwind-warm.cube', f.read())

# ---- projects and chains ----
for src, name in [('data/demo/demo.catena', 'demo.catena'),
                  ('tests/ui/test.catena', 'ui-test.catena')]:
    with open(os.path.join(ROOT, src), 'rb') as f:
        put('project-json', name, f.read())
with open(os.path.join(ROOT, 'data', 'demo', 'demo.catena')) as f:
    demo = json.load(f)
put('project-json', 'minimal.catena', json.dumps({
    'format': 'catena-project', 'version': 1, 'name': 'seed',
    'chain': [{'kind': 'generate', 'id': 'generate', 'params': {'prompt': 'a red bag'}}],
    'assets': [{'id': 'bag', 'class': 'hero', 'prompt': 'a red bag on white'}]}, indent=1))
put('chain-json', 'demo-chain.json', json.dumps({
    'format': 'catena-chain', 'version': 1, 'stages': demo['chain']}, indent=2))
put('chain-json', 'all-kinds.json', json.dumps({
    'format': 'catena-chain', 'version': 1, 'stages': [
        {'kind': 'generate', 'id': 'g', 'params': {'prompt': 'bag', 'candidates': 2}},
        {'kind': 'import', 'id': 'i'},
        {'kind': 'remove-background', 'id': 'rb', 'params': {'method': 'classical'}},
        {'kind': 'upscale', 'id': 'u', 'params': {'factor': 2.0}},
        {'kind': 'recolor', 'id': 'r', 'params': {'hue': 30.0, 'brand-colour': '#c8102e'}},
        {'kind': 'brand-lut', 'id': 'l'},
        {'kind': 'edit', 'id': 'e', 'params': {'instruction': 'make the bag red'}},
        {'kind': 'style', 'id': 's'},
        {'kind': 'composite', 'id': 'c'},
        {'kind': 'export', 'id': 'x', 'params': {'format': 'jpeg', 'quality': 90}}]}))

# ---- provider answers: first byte picks the HTTP status (index into the harness's table) ----
put('provider-json', 'fal-status.json',
    b'\x00' + json.dumps({'status': 'COMPLETED', 'request_id': 'abc',
                          'response_url': 'https://queue.fal.run/x/requests/abc'}).encode())
put('provider-json', 'fal-result.json',
    b'\x00' + json.dumps({'images': [{'url': 'https://fal.media/a.png', 'width': 8,
                                      'height': 8, 'content_type': 'image/png'}],
                          'seed': 1}).encode())
put('provider-json', 'openai-error.json',
    b'\x01' + json.dumps({'error': {'message': 'Invalid size', 'type': 'invalid_request_error',
                                    'param': 'size', 'code': None}}).encode())
put('provider-json', 'fal-422.json',
    b'\x05' + json.dumps({'detail': [{'loc': ['body', 'prompt'], 'msg': 'field required',
                                      'type': 'value_error.missing'}]}).encode())
put('provider-json', 'server-error.txt', b'\x07<html>Internal Server Error</html>')
put('provider-json', 'comfyui-workflow.json', b'\x00' + json.dumps({
    '3': {'class_type': 'KSampler', 'inputs': {'cfg': 8, 'denoise': 1, 'latent_image': ['5', 0],
          'model': ['4', 0], 'negative': ['7', 0], 'positive': ['6', 0],
          'sampler_name': 'euler', 'scheduler': 'normal', 'seed': 1, 'steps': 20}},
    '4': {'class_type': 'CheckpointLoaderSimple', 'inputs': {'ckpt_name': 'sd15.safetensors'}},
    '5': {'class_type': 'EmptyLatentImage', 'inputs': {'batch_size': 1, 'height': 512,
                                                       'width': 512}},
    '6': {'class_type': 'CLIPTextEncode', 'inputs': {'clip': ['4', 1], 'text': 'a bag'}},
    '7': {'class_type': 'CLIPTextEncode', 'inputs': {'clip': ['4', 1], 'text': 'blurry'}},
    '8': {'class_type': 'VAEDecode', 'inputs': {'samples': ['3', 0], 'vae': ['4', 2]}},
    '9': {'class_type': 'SaveImage', 'inputs': {'filename_prefix': 'c', 'images': ['8', 0]}},
}).encode())


# ---- provider answers, as each reader gets them (fuzz-provider-answers): an HTTP body, or a
# ComfyUI /ws text message; shapes from shared/PROTOCOLS.md and tests/providers/fake-servers.c.
PROMPT_ID = '7d3e2b1a-5c4f-4e6d-9a8b-0c1d2e3f4a5b'   # the harness's
FAL_ID = '3c9a1f2e-8b7d-4c6e-a5f4-1e2d3c4b5a69'
FAL_BASE = 'https://queue.fal.run/fal-ai/flux/requests/' + FAL_ID
# a 1x1 PNG
PNG_B64 = ('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5'
           'ErkJggg==')


def answer(name, doc):
    put('provider-answers', name, json.dumps(doc))


answer('fal-upload.json', {
    'upload_url': 'https://v3.fal.media/files/upload/abc.png?signature=abc',
    'file_url': 'https://v3.fal.media/files/koala/abc.png'})
answer('fal-submit.json', {
    'request_id': FAL_ID, 'response_url': FAL_BASE, 'status_url': FAL_BASE + '/status',
    'cancel_url': FAL_BASE + '/cancel', 'queue_position': 0})
answer('fal-status-queued.json', {'status': 'IN_QUEUE', 'queue_position': 2,
                                  'response_url': FAL_BASE})
answer('fal-status-running.json', {'status': 'IN_PROGRESS', 'response_url': FAL_BASE,
                                   'logs': [{'message': 'step 1/4', 'level': 'INFO',
                                             'timestamp': '2025-05-01T10:00:00.000Z'}]})
answer('fal-status-completed.json', {'status': 'COMPLETED', 'response_url': FAL_BASE,
                                     'logs': None, 'metrics': {'inference_time': 1.25}})
answer('fal-status-error.json', {'status': 'COMPLETED', 'response_url': FAL_BASE,
                                 'error': 'CUDA out of memory', 'error_type': 'runner'})
answer('fal-result.json', {
    'images': [{'url': 'https://v3.fal.media/files/a.png', 'width': 1024, 'height': 1024,
                'content_type': 'image/png'},
               {'url': 'https://v3.fal.media/files/b.png', 'width': 1024, 'height': 1024,
                'content_type': 'image/png'}],
    'seed': 42, 'timings': {'inference': 0.4}, 'has_nsfw_concepts': [False, False],
    'prompt': 'a red bag on white'})
answer('fal-result-image.json', {   # birefnet, esrgan: one image
    'image': {'url': 'https://v3.fal.media/files/c.png', 'width': 512, 'height': 512,
              'content_type': 'image/png', 'file_name': 'c.png', 'file_size': 4096}})
answer('openai-b64.json', {
    'created': 1746093600, 'data': [{'b64_json': PNG_B64, 'revised_prompt': None}],
    'usage': {'total_tokens': 100, 'input_tokens': 50, 'output_tokens': 50,
              'input_tokens_details': {'text_tokens': 50, 'image_tokens': 0}}})
answer('openai-url.json', {'created': 1746093600,
                           'data': [{'url': 'https://oaidalleapiprodscus.blob.core.windows.net/'
                                            'private/img.png', 'revised_prompt': 'a bag'}]})
answer('comfyui-upload.json', {'name': 'catena-input-0badcafe.png', 'subfolder': 'catena',
                               'type': 'input'})
answer('comfyui-prompt.json', {'prompt_id': PROMPT_ID, 'number': 3, 'node_errors': {}})
answer('comfyui-object-info.json', {
    'CheckpointLoaderSimple': {
        'input': {'required': {'ckpt_name': [['sd15.safetensors', 'sdxl.safetensors'], {}]}},
        'output': ['MODEL', 'CLIP', 'VAE'], 'name': 'CheckpointLoaderSimple'},
    'LoraLoader': {'input': {'required': {
        'model': ['MODEL'], 'clip': ['CLIP'],
        'lora_name': ['COMBO', {'options': ['brand.safetensors', 'ink.safetensors']}],
        'strength_model': ['FLOAT', {'default': 1.0, 'min': -100.0, 'max': 100.0}]}}},
    'UpscaleModelLoader': {'input': {'required': {'model_name': [['4x-UltraSharp.pth'], {}]}}}})
answer('comfyui-history.json', {PROMPT_ID: {
    'prompt': [3, PROMPT_ID, {}, {}, ['9']],
    'outputs': {'9': {'images': [{'filename': 'catena_00001_.png', 'subfolder': '',
                                  'type': 'output'}]},
                '12': {'images': [{'filename': 'ComfyUI_temp_x_00001_.png',
                                   'subfolder': '', 'type': 'temp'}]}},
    'status': {'status_str': 'success', 'completed': True,
               'messages': [['execution_start', {'prompt_id': PROMPT_ID,
                                                 'timestamp': 1746093600000}],
                            ['execution_success', {'prompt_id': PROMPT_ID,
                                                   'timestamp': 1746093601000}]]},
    'meta': {'9': {'node_id': '9', 'display_node': '9'}}}})
answer('comfyui-history-error.json', {PROMPT_ID: {
    'outputs': {}, 'status': {'status_str': 'error', 'completed': False, 'messages': [
        ['execution_error', {'prompt_id': PROMPT_ID, 'node_id': '3', 'node_type': 'KSampler',
                             'exception_message': 'CUDA out of memory'}]]}}})
answer('comfyui-history-pending.json', {})
answer('comfyui-history-running.json', {PROMPT_ID: {
    'outputs': {}, 'status': {'status_str': 'success', 'completed': False, 'messages': []}}})


def ws(name, kind, data):
    put('provider-answers', 'comfyui-ws-' + name + '.json', json.dumps({'type': kind,
                                                                       'data': data}))


ws('status', 'status', {'status': {'exec_info': {'queue_remaining': 1}},
                        'sid': 'f0e1d2c3b4a5'})
ws('start', 'execution_start', {'prompt_id': PROMPT_ID, 'timestamp': 1746093600000})
ws('cached', 'execution_cached', {'nodes': ['4', '5'], 'prompt_id': PROMPT_ID})
ws('executing', 'executing', {'node': '3', 'display_node': '3', 'prompt_id': PROMPT_ID})
ws('progress', 'progress', {'value': 7, 'max': 20, 'prompt_id': PROMPT_ID, 'node': '3'})
ws('executed', 'executed', {'node': '9', 'display_node': '9', 'prompt_id': PROMPT_ID,
                            'output': {'images': [{'filename': 'catena_00001_.png',
                                                   'subfolder': '', 'type': 'output'}]}})
ws('done', 'executing', {'node': None, 'prompt_id': PROMPT_ID})
ws('success', 'execution_success', {'prompt_id': PROMPT_ID, 'timestamp': 1746093601000})
ws('error', 'execution_error', {
    'prompt_id': PROMPT_ID, 'node_id': '3', 'node_type': 'KSampler', 'executed': ['4'],
    'exception_message': 'Allocation on device', 'exception_type': 'torch.OutOfMemoryError',
    'traceback': ['  File "execution.py", line 1'], 'current_inputs': {}, 'current_outputs': {}})
ws('interrupted', 'execution_interrupted', {'prompt_id': PROMPT_ID, 'node_id': '3',
                                            'node_type': 'KSampler', 'executed': []})
ws('other-prompt', 'progress', {'value': 1, 'max': 2,
                                'prompt_id': '00000000-0000-4000-8000-000000000000'})
