#!/usr/bin/env node
// Runs a V3 image on SqueakJS (loaded from $SQJS, see ../shared/oracle/squeakjs/README.md;
// SqueakJS is never part of this repository) for a number of bytecodes, then writes the
// Display form's bits to a file. Used by tests/squeakjs_screen.py.
//
// usage: node squeakjs_screen.js IMAGE BYTECODES OUT
// OUT gets one line "width height depth\n" and then the Display's words, little-endian.
//
// SqueakJS runs without its JIT (so that bytecodes are counted one by one) and with a
// display that draws nothing but behaves as a real one where the image can tell: the
// screen size is the window size saved in the image header (as squeak-vm -vm-display-null
// and ozvm answer), beDisplay makes the receiver the specials' Display, depths 1-32 are
// supported, display updates succeed; the character scanner is SqueakJS's own (its
// headless display fails it).
"use strict";
var fs = require("fs");
var path = require("path");

var SQJS = path.resolve(process.env.SQJS || "/tmp/sqjs");
var args = process.argv.slice(2);
if (args.length !== 3) {
    process.stderr.write("usage: node squeakjs_screen.js IMAGE BYTECODES OUT\n");
    process.exit(2);
}
var imagePath = path.resolve(args[0]), limit = parseInt(args[1], 10), outPath = args[2];

console.log = console.info = function() {};
global.self = new Proxy({}, {
    get: function(o, k) { return global[k]; },
    set: function(o, k, v) { global[k] = v; return true; },
});
global.localStorage = {};
global.btoa = function(s) { return Buffer.from(s, "binary").toString("base64"); };
global.atob = function(s) { return Buffer.from(s, "base64").toString("binary"); };

["globals.js", "vm.js", "vm.object.js", "vm.object.spur.js", "vm.image.js", "vm.interpreter.js",
 "vm.interpreter.proxy.js", "vm.instruction.stream.js", "vm.instruction.stream.sista.js",
 "vm.instruction.printer.js", "vm.primitives.js", "vm.display.js", "vm.display.headless.js",
 "vm.input.js", "vm.input.headless.js", "vm.plugins.js", "vm.plugins.file.node.js"]
    .forEach(function(f) { require(path.join(SQJS, f)); });

var P = Squeak.Primitives.prototype;
var headless = {};
Object.keys(P).forEach(function(k) { headless[k] = P[k]; });
require(path.join(SQJS, "vm.display.browser.js"));
var scanCharacters = P.primitiveScanCharacters;
Object.keys(P).forEach(function(k) { if (!(k in headless)) delete P[k]; });
Object.keys(headless).forEach(function(k) { P[k] = headless[k]; });

var screenSize = [640, 480];
var succeed = function(argCount) { this.vm.popN(argCount); return true; };
Object.extend(P, {
    loadModuleDynamically: function(name) {
        try { require(path.join(SQJS, "plugins", name)); return Squeak.externalModules[name]; }
        catch (e) { return undefined; }
    },
    primitiveScanCharacters: scanCharacters,
    primitiveScreenSize: function(argCount) {
        return this.popNandPushIfOK(argCount + 1, this.makePointWithXandY(screenSize[0], screenSize[1]));
    },
    primitiveBeDisplay: function(argCount) {
        this.vm.specialObjects[Squeak.splOb_TheDisplay] = this.vm.stackValue(0);
        this.vm.popN(argCount);
        return true;
    },
    primitiveTestDisplayDepth: function(argCount) {
        var depth = this.stackInteger(0);
        return this.popNandPushBoolIfOK(argCount + 1, [1, 2, 4, 8, 16, 32].indexOf(depth) >= 0);
    },
    primitiveShowDisplayRect: succeed,
    primitiveDeferDisplayUpdates: succeed,
    primitiveForceDisplayUpdate: succeed,
});
delete Squeak.Compiler;         // no JIT: every bytecode counted

var data = fs.readFileSync(imagePath);
var image = new Squeak.Image(imagePath);
image.readFromBuffer(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), function() {
    var saved = image.savedHeaderWords[1] >>> 0;
    if (saved) screenSize = [saved >>> 16, saved & 0xFFFF];
    var display = { vmOptions: ["-vm-display-null"], argv: [process.execPath, imagePath] };
    var vm = new Squeak.Interpreter(image, display, {});
    function step() {
        try {
            var until = Math.min(limit, vm.byteCodeCount + 200000);
            while (vm.byteCodeCount < until && !display.quitFlag) vm.interpretOne();
        } catch (e) {
            process.stderr.write("SqueakJS failed: " + e + "\n");
            process.exit(70);
        }
        if (vm.byteCodeCount < limit && !display.quitFlag) return setImmediate(step);
        var form = vm.specialObjects[Squeak.splOb_TheDisplay];
        var bits = form.pointers[0], w = form.pointers[1], h = form.pointers[2], d = form.pointers[3];
        var words = bits.words || new Uint32Array(bits.bytes.buffer, bits.bytes.byteOffset, bits.bytes.length >> 2);
        var head = Buffer.from(w + " " + h + " " + d + "\n", "ascii");
        var body = Buffer.alloc(words.length * 4);
        for (var i = 0; i < words.length; i++) body.writeUInt32LE(words[i] >>> 0, i * 4);
        fs.writeFileSync(outPath, Buffer.concat([head, body]));
        process.exit(0);
    }
    step();
});
