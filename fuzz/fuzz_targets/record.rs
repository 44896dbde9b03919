#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    onrecord_fuzz::record(data, &onrecord_fuzz::scratch("record"));
});
