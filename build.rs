//! Generates the wire types from proto/medseal/v1 (the normative definition) with protox, a
//! protobuf compiler written in Rust, so building medseal needs no protoc.

fn main() {
    let files = ["proto/medseal/v1/sealed_record.proto", "proto/medseal/v1/submission.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"]).expect("the .proto files compile");
    prost_build::Config::new().compile_fds(descriptors).expect("prost generates the wire types");
}
