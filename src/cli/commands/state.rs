//! `pedestal state list | show ADDR | rm ADDR`.

use pedestal::ops::state;
use pedestal::render;

use super::state_request;
use crate::cli::{Error, Exit, Global, StateCommand};

pub fn run(g: &Global, cmd: &StateCommand) -> Result<Exit, Error> {
    match cmd {
        StateCommand::List(env) => {
            for a in state::list(&g.dir, &state_request(env)?)? {
                println!("{a}");
            }
        }
        StateCommand::Show { env, address } => {
            let r = state::show(&g.dir, &state_request(env)?, address)?;
            print!("{}", render::human::state_resource(address, &r));
        }
        StateCommand::Rm { env, address } => {
            let removed = state::rm(&g.dir, &state_request(env)?, address)?;
            for a in &removed {
                println!("Removed {a}");
            }
            println!(
                "Successfully removed {} resource instance(s); the cloud was not touched.",
                removed.len()
            );
        }
    }
    Ok(Exit::Success)
}
